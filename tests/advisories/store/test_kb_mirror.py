"""Mirror discovery over ../shared/vulndata as it is: which feed reads which directory, what is skipped."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from vulnhound.advisories.feeds.interface import Feed, FetchResult, FetchState
from vulnhound.advisories.feeds.osv import OsvDirectoryFeed
from vulnhound.advisories.mirror import REFERENCE_DIRS, MirrorPlan, discover
from vulnhound.advisories.model import ParsedItem, Reject
from vulnhound.advisories.store import KnowledgeBase, resolve_url
from vulnhound.advisories.store.update import update_from_mirror


def test_shared_corpus_layout(vulndata: Path) -> None:
    plan = discover(vulndata)
    found = {feed.name: path.relative_to(vulndata).as_posix() for feed, path in plan.entries}
    # OSV sources always; other feeds (KEV, distro trackers, native databases) add theirs when registered.
    assert {k: v for k, v in found.items() if k in {
        "pypa-advisory-database", "go-vulndb", "rustsec-osv", "almalinux-osv", "osv-dir:osv-fixture-harvest"}} == {
        "pypa-advisory-database": "pypa-advisory-database", "go-vulndb": "golang-vulndb",
        "rustsec-osv": "rustsec-advisory-db", "almalinux-osv": "almalinux-osv",
        "osv-dir:osv-fixture-harvest": "osv-fixture-harvest",
    }
    skipped = {p.name for p, why in plan.skipped if "reference" in why}
    assert skipped == set(REFERENCE_DIRS)
    assert not any(Path(p).parts[0] in REFERENCE_DIRS for p in found.values())


def test_empty_mirror(tmp_path: Path) -> None:
    plan = discover(tmp_path)
    assert plan.entries == [] and plan.skipped == []


class _BrokenFeed(Feed):
    name = "broken"

    def fetch(self, client: httpx.Client, dest: Path, state: FetchState) -> FetchResult:
        raise NotImplementedError

    def parse(self, snapshot: Path) -> Iterator[ParsedItem]:
        yield Reject("broken", "x", "first item fine")
        raise RuntimeError("parser bug")


def test_a_crashing_feed_fails_alone(kb: KnowledgeBase, pypa_mirror: Path) -> None:
    pypa = pypa_mirror / "pypa-advisory-database"
    plan = MirrorPlan(entries=[(_BrokenFeed(), pypa_mirror), (OsvDirectoryFeed.from_mirror(pypa), pypa)])
    results = {r.source: r for r in update_from_mirror(kb.engine, pypa_mirror, plan=plan)}
    assert results["broken"].mode == "failed" and "parser bug" in results["broken"].description
    assert results["pypa-advisory-database"].counts["records"] == 5
    assert [s.name for s in kb.status()] == ["pypa-advisory-database"]  # nothing of the failed source stored


def test_database_locations(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VULNHOUND_DB", raising=False)
    assert resolve_url(str(tmp_path / "x.db")) == f"sqlite:///{tmp_path / 'x.db'}"
    assert resolve_url("postgresql://postgres@127.0.0.1/test") == "postgresql+psycopg://postgres@127.0.0.1/test"
    monkeypatch.setenv("VULNHOUND_DB", str(tmp_path / "env.db"))
    assert resolve_url(None).endswith("env.db")
    monkeypatch.delenv("VULNHOUND_DB")
    assert resolve_url(None).endswith("vulnhound/vulnhound.db")  # platformdirs user data dir
