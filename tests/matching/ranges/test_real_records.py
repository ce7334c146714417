"""The accuracy gate on real advisory data in ../shared/vulndata: enumerated versions and bounds vs ranges."""

# * PyPA: every version a record enumerates must be affected by the record's ranges alone (all records).
# * GHSA/Ubuntu/... records harvested from test fixtures: the same, for every record with enumerated versions.
# * Go, RustSec, AlmaLinux: every range bound parses and sits on the right side of its own range.
# * RustSec: the OSV export's SEMVER ranges agree with the Cargo requirements in the advisory's TOML front matter.
#
# Disagreements found are data errors, listed in KNOWN with the reason; anything new fails the test.

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from osv_records import affected_entries, load_record

from vulnhound.advisories.model import Affected, EventKind, RangeType
from vulnhound.matching.ranges import evaluate
from vulnhound.matching.versions.cargo_req import cargo_satisfies, parse_cargo_req

# Whole-corpus gates: ~15 s on an idle 2-core machine, so they run with the slow set.
pytestmark = pytest.mark.slow

# (record id, version): why the enumerated version is not inside the record's own ranges.
KNOWN = {
    # introduced: 3.2 / 4.2 exclude their own prereleases under PEP 440, yet the enumeration lists them.
    **{
        ("PYSEC-2023-61", v): "prerelease below introduced"
        for v in ("3.2a1", "3.2b1", "3.2rc1", "4.2a1", "4.2b1", "4.2rc1")
    },
    # versions were enumerated from the GIT range, which goes past the ECOSYSTEM range's fixed 23.9.0.
    ("PYSEC-2023-177", "23.9.0"): "enumerated from GIT range",
    ("PYSEC-2023-177", "23.9.0.post1"): "enumerated from GIT range",
    # overlapping intervals in one range ([0, 2.11.6) and [2.11, 2.11.7)); the OSV walk closes at 2.11.6.
    ("PYSEC-2021-114", "2.11.6"): "overlapping intervals in one range",
}
# What may stay undecided: versions PEP 440 cannot read, ecosystems without a scheme, GIT-only entries.
UNDECIDABLE = re.compile(r"not a PEP 440 version|no version scheme for ecosystem|GIT commit range")


def _enumerated_gate(files: list[Path]) -> tuple[int, dict[tuple[str, str], str], list[str]]:
    checked, disagree, undecided = 0, {}, []
    for f in files:
        rec = load_record(f)
        for aff in affected_entries(rec):
            if not aff.versions or not aff.ranges:
                continue
            bare = dataclasses.replace(aff, versions=())
            for v in aff.versions:
                checked += 1
                verdict = evaluate(bare, v)
                if verdict.affected is None:
                    undecided.append(verdict.reason)
                elif not verdict.affected:
                    disagree[(rec["id"], v)] = verdict.reason
    return checked, disagree, undecided


def test_pypa_enumerated_versions_are_in_ranges(vulndata: Path) -> None:
    files = sorted((vulndata / "pypa-advisory-database" / "vulns").rglob("*.yaml"))
    assert len(files) > 2600
    checked, disagree, undecided = _enumerated_gate(files)
    assert checked > 140_000
    assert {k: v for k, v in disagree.items() if k not in KNOWN} == {}
    assert set(disagree) == {k for k in KNOWN if k[0] in {i for i, _ in disagree}}
    assert all(UNDECIDABLE.search(r) for r in undecided), [r for r in undecided if not UNDECIDABLE.search(r)][:5]
    assert len(undecided) < 200


def test_harvested_enumerated_versions_are_in_ranges(vulndata: Path) -> None:
    files = sorted((vulndata / "osv-fixture-harvest").rglob("*.json"))
    checked, disagree, undecided = _enumerated_gate(files)
    assert checked > 40_000  # mostly GHSA Maven, plus PyPI, NuGet, RubyGems, Packagist, npm, Ubuntu
    assert disagree == {}
    assert all(UNDECIDABLE.search(r) for r in undecided)


def _bound_checks(aff: Affected) -> Iterator[tuple[str, str, bool]]:
    for rng in aff.ranges:
        if rng.type is RangeType.GIT:
            continue
        introduced = {e.version for e in rng.events if e.kind is EventKind.INTRODUCED}
        fixed = {e.version for e in rng.events if e.kind is EventKind.FIXED}
        for e in rng.events:
            if e.kind is EventKind.LIMIT or e.version in ("0", "*"):
                continue
            if e.version in introduced and e.version in fixed:
                continue  # "fixed X, introduced X" re-opens at X; "introduced X, fixed X" is empty (RustSec)
            yield rng.type.value, e.version, e.kind is not EventKind.FIXED


@pytest.mark.parametrize(
    ("corpus", "pattern", "step"),
    [
        ("golang-vulndb/data/osv", "*.json", 1),
        ("rustsec-advisory-db/osv/crates", "*.json", 1),
        ("almalinux-osv", "**/*.json", 7),  # a sample: every 7th record
        ("osv-fixture-harvest", "**/*.json", 1),
    ],
)
def test_every_bound_is_on_its_side(vulndata: Path, corpus: str, pattern: str, step: int) -> None:
    files = sorted((vulndata / corpus).glob(pattern))[::step]
    assert files
    checked, wrong = 0, []
    for f in files:
        rec = load_record(f)
        for aff in affected_entries(rec):
            for i, rng in enumerate(aff.ranges):
                one = dataclasses.replace(aff, ranges=(rng,), versions=())
                for _, version, want in _bound_checks(dataclasses.replace(aff, ranges=(rng,))):
                    verdict = evaluate(one, version)
                    if verdict.affected is None and UNDECIDABLE.search(verdict.reason):
                        continue
                    checked += 1
                    if verdict.affected is not want:
                        wrong.append(f"{rec['id']} range {i + 1} {version}: {verdict}")
    assert checked > 1000
    assert not wrong, "\n".join(wrong[:20])


def _rustsec_reqs(md: Path) -> tuple[str, list[str]] | None:
    m = re.match(r"```toml\n(.*?)\n```", md.read_text(encoding="utf-8"), re.S)
    if m is None:
        return None
    data = tomllib.loads(m.group(1))
    versions = data.get("versions", {})
    return data["advisory"]["id"], [*versions.get("patched", []), *versions.get("unaffected", [])]


def test_rustsec_osv_ranges_agree_with_cargo_requirements(vulndata: Path) -> None:
    root = vulndata / "rustsec-advisory-db"
    checked, wrong = 0, []
    for md in sorted((root / "main" / "crates").glob("*/RUSTSEC-*.md")):
        parsed = _rustsec_reqs(md)
        osv = root / "osv" / "crates" / f"{md.stem}.json"
        if parsed is None or not osv.is_file():
            continue
        rid, reqs = parsed
        entries = list(affected_entries(load_record(osv)))
        if not entries:
            continue
        aff = entries[0]
        probes = {b.removesuffix("-0") for r in reqs for _, b in parse_cargo_req(r)} | {
            e.version for rng in aff.ranges for e in rng.events if e.version not in ("0", "0.0.0-0")
        }
        for v in sorted(p for p in probes if "-" not in p):
            major, minor, patch = (int(x) for x in v.split(".")[:3])
            for probe in {v, f"{major}.{minor}.{patch + 1}", f"{major}.{minor + 1}.0"}:
                unaffected = any(cargo_satisfies(probe, r) for r in reqs)
                checked += 1
                if evaluate(aff, probe).affected is unaffected:
                    wrong.append(f"{rid} {probe}: requirements {reqs} say unaffected={unaffected}")
    assert checked > 3000
    assert not wrong, "\n".join(wrong[:20])
