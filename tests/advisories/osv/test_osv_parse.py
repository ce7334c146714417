"""OSV record parsing: each case directory's record against its checked-in expected summary, plus properties."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from vulnhound.advisories.feeds.osv import (
    OsvDirectoryFeed,
    UnknownEcosystem,
    normalize_ecosystem,
    parse_bytes,
)
from vulnhound.advisories.model import Advisory, ParsedItem, Reject

CASES = Path(__file__).parent / "cases"
REGEN = os.environ.get("VULNHOUND_REGEN") == "1"  # rewrite expected.json after a deliberate change


def summarize(items: list[ParsedItem]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for it in items:
        if isinstance(it, Reject):
            out.append({"reject": it.reason, "location": it.location})
        elif isinstance(it, Advisory):
            out.append({
                "id": it.id, "aliases": list(it.aliases), "related": list(it.related),
                "published": it.published.isoformat() if it.published else None,
                "modified": it.modified.isoformat() if it.modified else None,
                "withdrawn": it.withdrawn.isoformat() if it.withdrawn else None,
                "cwes": list(it.cwes), "references": len(it.references),
                "severities": [[s.source, s.type, s.score, s.rating] for s in it.severities],
                "affected": [{
                    "ecosystem": a.ecosystem, "name": a.name, "purl": a.purl,
                    "ranges": [[r.type.value, r.repo, [[e.kind.value, e.version] for e in r.events]]
                               for r in a.ranges],
                    "versions": list(a.versions), "severities": [[s.type, s.score] for s in a.severities],
                    "ecosystem_specific": sorted(a.ecosystem_specific),
                    "database_specific": sorted(a.database_specific),
                } for a in it.affected],
            })
    return out


def _record(case: Path) -> Path:
    return next(p for p in sorted(case.iterdir()) if p.name.startswith("record."))


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if p.is_dir()))
def test_case_matches_expected(case: str) -> None:
    rec = _record(CASES / case)
    got = summarize(parse_bytes(rec.read_bytes(), rec.name, "osv:test", rec.name))
    expected_file = CASES / case / "expected.json"
    if REGEN or not expected_file.exists():
        expected_file.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    assert got == json.loads(expected_file.read_text(encoding="utf-8"))


def test_real_records_keep_key_fields() -> None:
    rec = _record(CASES / "normal-ghsa-maven-versions")
    adv = parse_bytes(rec.read_bytes(), rec.name, "osv:Maven", rec.name)[0]
    assert isinstance(adv, Advisory)
    assert adv.affected and all(a.versions for a in adv.affected)  # GHSA Maven records enumerate versions
    assert {s.source for s in adv.severities} >= {"ghsa"}  # database_specific.severity kept as a vendor rating
    cvss = [s for s in adv.severities if s.type.startswith("CVSS")]
    assert cvss and all(s.score is not None and 0 < s.score <= 10 for s in cvss)


def test_spec_ranges_all_event_kinds() -> None:
    rec = _record(CASES / "spec-ranges")
    adv = parse_bytes(rec.read_bytes(), rec.name, "osv:test", rec.name)[0]
    assert isinstance(adv, Advisory)
    kinds = {e.kind.value for a in adv.affected for r in a.ranges for e in r.events}
    assert kinds == {"introduced", "fixed", "last_affected", "limit"}
    assert {r.type.value for a in adv.affected for r in a.ranges} == {"SEMVER", "ECOSYSTEM", "GIT"}
    assert adv.affected[2].ranges[0].repo == "https://example.com/limited.git"
    scores = {s.type: s.score for s in adv.severities if s.score is not None}
    assert scores == {"CVSS_V3": 9.8, "CVSS_V2": 7.5, "CVSS_V4": 9.3}


def test_hostile_input_never_raises_and_counts_rejects() -> None:
    rec = _record(CASES / "hostile-mixed")
    items = parse_bytes(rec.read_bytes(), rec.name, "osv:test", rec.name)
    rejects = [i for i in items if isinstance(i, Reject)]
    assert [i.id for i in items if isinstance(i, Advisory)] == ["HOSTILE-1"]
    reasons = {r.reason for r in rejects}
    assert "unknown ecosystem NotAnEcosystem" in reasons
    assert "invalid CVSS_V3 vector" in reasons
    assert "not an OSV record (no id)" in reasons
    assert "not an OSV record (no modified)" in reasons


@pytest.mark.parametrize(("raw", "want"), [
    ("Alpine:3.19", "Alpine:v3.19"), ("alpine:v3.20", "Alpine:v3.20"), ("rocky linux:9", "Rocky Linux:9"),
    ("debian:12", "Debian:12"), ("Ubuntu:22.04:LTS", "Ubuntu:22.04:LTS"), (" PYPI ", "PyPI"),
    ("crates.io", "crates.io"), ("bitnami", "Bitnami"), ("Red Hat:rhel_aus:8.6::appstream",
                                                         "Red Hat:rhel_aus:8.6::appstream"),
])
def test_normalize_ecosystem(raw: str, want: str) -> None:
    assert normalize_ecosystem(raw) == want


def test_unknown_ecosystem_raises() -> None:
    with pytest.raises(UnknownEcosystem):
        normalize_ecosystem("JavaScript")


def test_huge_enumerated_versions(tmp_path: Path) -> None:
    versions = [f"1.0.{i}" for i in range(50000)]
    doc = {"id": "HUGE-1", "modified": "2024-01-01T00:00:00Z",
           "affected": [{"package": {"ecosystem": "npm", "name": "big"}, "versions": versions}]}
    adv = parse_bytes(json.dumps(doc).encode(), "HUGE-1.json", "osv:npm", "HUGE-1.json")[0]
    assert isinstance(adv, Advisory) and len(adv.affected[0].versions) == 50000


def test_directory_layouts_detected(vulndata: Path) -> None:
    names = {d: OsvDirectoryFeed.from_mirror(vulndata / d).name for d in (
        "pypa-advisory-database", "golang-vulndb", "rustsec-advisory-db", "almalinux-osv", "osv-fixture-harvest")}
    assert names == {
        "pypa-advisory-database": "pypa-advisory-database", "golang-vulndb": "go-vulndb",
        "rustsec-advisory-db": "rustsec-osv", "almalinux-osv": "almalinux-osv",
        "osv-fixture-harvest": "osv-dir:osv-fixture-harvest",
    }
    for not_osv in ("cisa-kev", "nodejs-security-wg", "rubysec-ruby-advisory-db", "alpine-secdb-legacy"):
        assert not OsvDirectoryFeed.detect(vulndata / not_osv), not_osv


def test_go_directory_reads_only_osv_json(vulndata: Path, tmp_path: Path) -> None:
    src = vulndata / "golang-vulndb/data"
    root = tmp_path / "golang-vulndb"
    (root / "data/osv").mkdir(parents=True)
    (root / "data/reports").mkdir()
    for f in sorted((src / "osv").glob("GO-*.json"))[:30]:
        (root / "data/osv" / f.name).write_bytes(f.read_bytes())
    for f in sorted((src / "reports").glob("GO-*.yaml"))[:10]:  # Go's own report format, not OSV
        (root / "data/reports" / f.name).write_bytes(f.read_bytes())
    feed = OsvDirectoryFeed.from_mirror(root)
    items = list(feed.parse(root))
    assert feed.name == "go-vulndb"
    assert len([i for i in items if isinstance(i, Advisory)]) == 30
    assert not [i for i in items if isinstance(i, Reject)]  # data/reports/*.yaml are not read
