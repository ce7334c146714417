"""Each parser over its checked-in cases (normal, empty, corrupt, hostile, ...) against the expected output."""

from __future__ import annotations

import dataclasses
import enum
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from vulnhound.advisories.feeds.alpine_secdb import AlpineSecdbFeed
from vulnhound.advisories.feeds.debian_tracker import DebianTrackerFeed
from vulnhound.advisories.feeds.epss import EpssFeed
from vulnhound.advisories.feeds.interface import Feed
from vulnhound.advisories.feeds.kev import KevFeed
from vulnhound.advisories.feeds.nodejs_wg import NodejsSecurityWgFeed
from vulnhound.advisories.feeds.nvd import NvdFeed
from vulnhound.advisories.feeds.rubysec import RubySecFeed
from vulnhound.advisories.feeds.rustsec import RustSecFeed

CASES = Path(__file__).parent / "cases"
FEEDS: dict[str, type[Feed]] = {
    "alpine": AlpineSecdbFeed,
    "debian": DebianTrackerFeed,
    "epss": EpssFeed,
    "kev": KevFeed,
    "nodejs": NodejsSecurityWgFeed,
    "nvd": NvdFeed,
    "rubysec": RubySecFeed,
    "rustsec": RustSecFeed,
}


def to_plain(obj: Any) -> Any:
    """Parsed items → JSON-comparable data (enums by value, datetimes ISO, the item type named)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        out = {"_type": type(obj).__name__}
        out.update({f.name: to_plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)})
        return out
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, list | tuple):
        return [to_plain(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): to_plain(v) for k, v in obj.items()}
    return obj


def _stable(items: list[Any]) -> list[Any]:
    # Parser error texts differ between libyaml and pure-Python YAML (and Python versions): keep only the kind.
    for item in items:
        if item.get("_type") == "Reject" and item["reason"].startswith("malformed "):
            item["reason"] = item["reason"].split(":")[0]
    return items


def _cases() -> list[tuple[str, str]]:
    return sorted((feed.name, case.name) for feed in CASES.iterdir() if feed.is_dir() for case in feed.iterdir()
                  if case.is_dir())


@pytest.mark.parametrize(("feed", "case"), _cases(), ids=[f"{f}-{c}" for f, c in _cases()])
def test_parse_case(feed: str, case: str) -> None:
    parsed = _stable(to_plain(list(FEEDS[feed]().parse(CASES / feed / case))))
    expected_file = CASES / feed / f"{case}.expected.json"
    if os.environ.get("VULNHOUND_REGEN"):
        expected_file.write_text(json.dumps(parsed, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    assert expected_file.exists(), f"missing {expected_file.name}; run with VULNHOUND_REGEN=1 and review"
    assert parsed == json.loads(expected_file.read_text())


def test_every_feed_has_the_required_cases() -> None:
    kinds = {(f, c) for f, c in _cases()}
    for feed in FEEDS:
        assert (feed, "normal") in kinds
        assert any(c in ("corrupt", "hostile") for f, c in kinds if f == feed), feed
