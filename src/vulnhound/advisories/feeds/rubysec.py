"""RubySec ruby-advisory-db, native YAML: ``gems/<gem>/*.yml`` (RubyGems) and ``rubies/<engine>/*.yml``.

Affected versions are the complement of ``unaffected_versions`` ∪ ``patched_versions`` (RubyGems requirements),
written as ECOSYSTEM events on Gem::Version order. Interpreter advisories (``rubies/``) get ecosystem ``Ruby`` with
the engine as name (ruby, jruby, mruby, ...): they are not gems. The record id is the file's stem (CVE-…, GHSA-…,
OSVDB-…), the other ids become aliases. ``cvss_v2/v3/v4`` here are bare scores, kept with their rating band.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from vulnhound.advisories.feeds.common import TarballFeed, feed_purl, parse_when, snapshot_root
from vulnhound.advisories.feeds.requirements import RUBYGEMS, RequirementError, complement, gem_requirement, to_events
from vulnhound.advisories.model import (
    Advisory,
    Affected,
    ParsedItem,
    Range,
    RangeType,
    Reference,
    Reject,
    Severity,
)
from vulnhound.advisories.severity import rating_for_score

NAME = "rubysec"
# libyaml's loader when built in: the pure-Python one takes seconds over the ~1,400 files.
_SAFE_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
ENGINE_ECOSYSTEM = "Ruby"


def _severities(doc: dict[str, Any], location: str) -> tuple[tuple[Severity, ...], list[Reject]]:
    out: list[Severity] = []
    rejects: list[Reject] = []
    for key, kind in (("cvss_v4", "CVSS_V4"), ("cvss_v3", "CVSS_V3"), ("cvss_v2", "CVSS_V2")):
        value = doc.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= float(value) <= 10.0:
            why = f"invalid-cvss: {key} {value!r} is not a 0-10 score (rating dropped)"
            rejects.append(Reject(NAME, location, why))
            continue
        score = float(value)
        rating = rating_for_score(score)
        if kind == "CVSS_V2" and rating == "CRITICAL":  # v2 has no CRITICAL band
            rating = "HIGH"
        out.append(Severity(NAME, kind, None, score, rating))
    return tuple(out), rejects


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def parse_record(doc: Any, location: str, stem: str) -> list[ParsedItem]:
    """One YAML advisory → [Advisory] or [Reject]."""
    if not isinstance(doc, dict):
        return [Reject(NAME, location, "YAML document is not a mapping")]
    engine = doc.get("engine")
    gem = doc.get("gem")
    if not isinstance(gem, str) and not isinstance(engine, str):
        return [Reject(NAME, location, "neither gem nor engine given")]
    try:
        reqs = _strings(doc.get("unaffected_versions")) + _strings(doc.get("patched_versions"))
        safe = [gem_requirement(r) for r in reqs]
        events = to_events(complement(safe, RUBYGEMS), RUBYGEMS, zero="0", inclusive_end="last_affected")
    except RequirementError as exc:
        return [Reject(NAME, location, f"invalid version requirement: {exc}")]
    ids = []
    if doc.get("cve"):
        ids.append(f"CVE-{doc['cve']}")
    if doc.get("ghsa"):
        ids.append(f"GHSA-{doc['ghsa']}")
    if doc.get("osvdb"):
        ids.append(f"OSVDB-{doc['osvdb']}")
    related: dict[str, Any] = doc["related"] if isinstance(doc.get("related"), dict) else {}
    refs = [Reference(doc["url"], "ADVISORY")] if isinstance(doc.get("url"), str) else []
    refs += [Reference(u, "WEB") for u in _strings(related.get("url")) if u != doc.get("url")]
    if isinstance(gem, str):
        eco, name, purl = "RubyGems", gem, feed_purl("gem", gem)
    else:
        eco, name, purl = ENGINE_ECOSYSTEM, str(engine), feed_purl("generic", str(engine))
    severities, rejects = _severities(doc, location)
    affected = Affected(
        ecosystem=eco,
        name=name,
        purl=purl,
        ranges=(Range(RangeType.ECOSYSTEM, events),),
        severities=severities,
        database_specific={
            k: v
            for k, v in {
                "patched_versions": _strings(doc.get("patched_versions")),
                "unaffected_versions": _strings(doc.get("unaffected_versions")),
                "framework": doc.get("framework"),
                "platform": doc.get("platform"),
                "library": doc.get("library"),
            }.items()
            if v
        },
    )
    return [
        Advisory(
            id=stem,
            source=NAME,
            aliases=tuple(i for i in ids if i != stem),
            summary=str(doc["title"]).strip() if doc.get("title") else None,
            details=str(doc["description"]).strip() if doc.get("description") else None,
            published=parse_when(doc.get("date")),
            references=tuple(refs),
            severities=severities,
            affected=[affected],
            database_specific={"notes": doc["notes"]} if doc.get("notes") else {},
        ),
        *rejects,
    ]


class RubySecFeed(TarballFeed):
    """github.com/rubysec/ruby-advisory-db (master tarball) or a checkout of it."""

    name = NAME
    url = "https://github.com/rubysec/ruby-advisory-db/archive/refs/heads/master.tar.gz"

    def parse(self, snapshot: Path) -> Iterator[ParsedItem]:
        root = snapshot_root(snapshot, "gems")
        for path in sorted(root.glob("gems/*/*.yml")) + sorted(root.glob("rubies/*/*.yml")):
            location = path.relative_to(root).as_posix()
            try:
                doc = yaml.load(path.read_bytes(), Loader=_SAFE_LOADER)
            except (OSError, yaml.YAMLError) as exc:
                yield Reject(NAME, location, f"malformed YAML: {exc}")
                continue
            yield from parse_record(doc, location, path.stem)

    @classmethod
    def detect(cls, path: Path) -> bool:
        if not path.is_dir():
            return False
        # Strict (no look one level down): a corpus root holding a checkout must not be claimed whole.
        return next(path.glob("gems/*/*.yml"), None) is not None
