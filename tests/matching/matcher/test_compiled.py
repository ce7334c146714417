"""The compiled matcher (ranked bounds, verdicts per rank class) against the reference ``ranges.evaluate``.

Real records from ../shared/vulndata, parsed by the OSV feed's parser; for every package name the versions tried are
every bound and enumerated version the records name, plus neighbours of them. Every verdict of the fast path must
equal the reference's (affected or not, reason, fixed version); the fast path may hand a version back (None), and
the matcher then asks the reference, but it must do so rarely.
"""

from __future__ import annotations

import gc
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import pytest

from vulnhound.advisories.feeds.osv import iter_files
from vulnhound.advisories.model import Advisory, Affected, Event, EventKind, Range, RangeType
from vulnhound.inventory.model import Inventory, Location, Package, SourceInfo
from vulnhound.matching.compiled import _TUPLE_KEYED, NameTable, table_for
from vulnhound.matching.gcpause import gc_paused
from vulnhound.matching.index import Candidate, MemoryIndex
from vulnhound.matching.keys import LANGUAGE_ECOSYSTEMS, keys_for, normalize_name
from vulnhound.matching.matcher import Match, find_matches
from vulnhound.matching.ranges import evaluate
from vulnhound.matching.versions.registry import SCHEMES, parse

TYPE_OF = {eco: ptype for ptype, eco in LANGUAGE_ECOSYSTEMS.items()}


def _records(root: Path, every: int = 1) -> list[Advisory]:
    files = sorted(p for p in root.rglob("*") if p.suffix in (".json", ".yaml", ".yml") and p.is_file())
    return [a for a in iter_files(files[::every], root, "osv") if isinstance(a, Advisory) and a.withdrawn is None]


def _by_name(advisories: Iterable[Advisory]) -> dict[tuple[str, str], list[Affected]]:
    out: dict[tuple[str, str], list[Affected]] = defaultdict(list)
    for a in advisories:
        for aff in a.affected:
            out[(aff.ecosystem, normalize_name(aff.ecosystem, aff.name))].append(aff)
    return out


def _versions(entries: list[Affected], cap: int) -> list[str]:
    """Bounds, enumerated versions and neighbours of them, at most ``cap`` (evenly spread)."""
    seen = {e.version for a in entries for r in a.ranges if r.type is not RangeType.GIT for e in r.events}
    seen |= {v for a in entries for v in a.versions}
    around = {f"{v}{tail}" for v in seen for tail in (".1", "-1", "a1", "-rc.1")}
    every = sorted(seen | around | {"0.0.1", "1.0", "99999"})
    return every[::max(1, len(every) // cap)]


def _compare(groups: dict[tuple[str, str], list[Affected]], cap: int) -> tuple[int, int]:
    """Assert fast == reference on every (entry, version); returns (verdicts compared, versions handed back)."""
    compared = handed_back = 0
    for (eco, _), entries in groups.items():
        table = NameTable(eco, entries)
        for version in _versions(entries, cap):
            hits = table.hits(version)
            if hits is None:
                handed_back += 1
                continue
            by_index = {h.index: h for h in hits}
            for i, aff in enumerate(entries):
                if i in table.slow:
                    continue
                want = evaluate(aff, version, eco)
                hit = by_index.get(i)
                assert (hit is not None) == bool(want.affected), (eco, aff.name, version, want)
                if hit is not None:
                    assert (hit.reason(version), hit.fixed) == (want.reason, want.fixed_version), (aff.name, version)
                compared += 1
    return compared, handed_back


def test_harvest_sample_agrees_with_reference(vulndata: Path) -> None:
    groups = _by_name(_records(vulndata / "osv-fixture-harvest", every=3))
    compared, handed_back = _compare(groups, cap=24)
    assert compared > 10_000
    assert handed_back < compared / 20  # nearly all of them spellings the scheme rejects ("1.2.0a1" in npm)


@pytest.mark.slow
@pytest.mark.parametrize("source", ["osv-fixture-harvest", "pypa-advisory-database", "golang-vulndb",
                                    "rustsec-advisory-db"])
def test_whole_corpus_agrees_with_reference(vulndata: Path, source: str) -> None:
    compared, _ = _compare(_by_name(_records(vulndata / source)), cap=200)
    assert compared > 1000


def _aff(eco: str, name: str, *events: tuple[EventKind, str], versions: tuple[str, ...] = ()) -> Affected:
    rng = Range(RangeType.ECOSYSTEM, tuple(Event(k, v) for k, v in events))
    return Affected(eco, name, ranges=(rng,) if events else (), versions=versions)


def test_maven_order_that_is_not_transitive_goes_to_the_reference() -> None:
    # Under Maven's pairwise rules 7.0.0 < 7.0.0pre0 < 7.0.0.M0 yet 7.0.0.M0 < 7.0.0: no sort can place all three,
    # so a placement that disagrees with one direct comparison must not decide anything.
    entries = [_aff("Maven", "org.mortbay.jetty:jetty", (EventKind.INTRODUCED, "7.0.0"), (EventKind.FIXED, "7.0.2")),
               _aff("Maven", "org.mortbay.jetty:jetty", (EventKind.INTRODUCED, "7.0.0pre0"),
                    (EventKind.FIXED, "7.0.0pre1"))]
    table = NameTable("Maven", entries)
    for version in ("7.0.0.M0", "7.0.0.M2", "7.0.0pre0", "7.0.1", "6.1.26"):
        hits = table.hits(version)
        if hits is None:
            continue
        got = {h.index for h in hits}
        assert got == {i for i, a in enumerate(entries) if evaluate(a, version, "Maven").affected}, version
    assert evaluate(entries[0], "7.0.0.M2", "Maven").affected is False
    assert table.hits("7.0.0.M2") is None or not any(h.index == 0 for h in table.hits("7.0.0.M2") or ())


def test_listing_reason_names_the_enumerated_spelling() -> None:
    aff = _aff("PyPI", "demo", versions=("1.0", "2.0.0"))
    table = NameTable("PyPI", [aff])
    for version in ("1.0", "1.0.0", "2.0", "2.0.0", "3.0"):
        hits = table.hits(version) or ()
        want = evaluate(aff, version, "PyPI")
        assert [h.reason(version) for h in hits] == ([want.reason] if want.affected else []), version


def test_unparseable_and_undecidable_stay_with_the_reference() -> None:
    git_only = Affected("PyPI", "demo", ranges=(Range(RangeType.GIT, (Event(EventKind.INTRODUCED, "abc"),)),))
    bad_bound = _aff("PyPI", "demo", (EventKind.INTRODUCED, "0"), (EventKind.FIXED, "not a version"))
    table = NameTable("PyPI", [git_only, bad_bound, _aff("PyPI", "demo", (EventKind.INTRODUCED, "1.0"))])
    assert table.slow == [0, 1]
    assert table.hits("1.2") is not None
    assert table.hits("no-pep440-here!") is None  # legacy version: the reference says it is undecidable


def test_table_is_kept_while_its_entries_are() -> None:
    a = [_aff("npm", "left-pad", (EventKind.INTRODUCED, "0"), (EventKind.FIXED, "1.3.0"))]
    b = [_aff("npm", "left-pad", (EventKind.INTRODUCED, "0"), (EventKind.FIXED, "1.3.0"))]
    assert table_for("npm", "left-pad", a) is table_for("npm", "left-pad", list(a))
    assert table_for("npm", "left-pad", b) is not table_for("npm", "left-pad", a)  # other entries: other table


def test_tuple_keyed_schemes_really_have_tuple_keys() -> None:
    # The bisection trusts these schemes' order without checking each placement.
    for scheme in _TUPLE_KEYED:
        assert isinstance(parse(scheme, "1.2.3")._key, tuple), scheme
    assert set(SCHEMES) >= _TUPLE_KEYED


def _reference_matches(inv: Inventory, index: MemoryIndex) -> list[tuple[str, str, str, str | None]]:
    out = []
    for pkg in inv.packages:
        for key in keys_for(pkg, inv.os, []):
            for cand in index.candidates({(key.ecosystem, key.name)}).get((key.ecosystem, key.name), []):
                v = evaluate(cand.affected, key.version, key.ecosystem)
                if v.affected:
                    out.append((pkg.id, cand.advisory.id, v.reason, v.fixed_version))
    return out


def test_find_matches_equals_the_reference_loop(vulndata: Path) -> None:
    advisories = _records(vulndata / "osv-fixture-harvest", every=5)
    index = MemoryIndex(advisories)
    pkgs = []
    for (eco, name), entries in sorted(_by_name(advisories).items()):
        if eco not in TYPE_OF:
            continue
        for version in _versions(entries, cap=8):
            ptype = TYPE_OF[eco]
            pkgs.append(Package(name=name, version=version, type=ptype, purl=f"pkg:{ptype}/{name}@{version}",
                                found_by="test", locations=[Location(f"t/{name}/{version}")]))
    inv = Inventory(source=SourceInfo(kind="dir", target="t"), packages=pkgs)
    for _ in range(2):  # the second run answers from the kept tables and rank classes
        _, matches = find_matches(inv, index)
        got = [(m.package_id, m.candidate.advisory.id, m.reason, m.fixed_version) for m in matches]
        assert got == _reference_matches(inv, index)  # same matches, same order
    assert len(got) > 500
    assert all(isinstance(m, Match) and isinstance(m.candidate, Candidate) for m in matches)


def test_gc_pause_nests_and_restores() -> None:
    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer pause still holds
    assert gc.isenabled()
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()  # a collector that was off stays off
    finally:
        gc.enable()


def test_forked_child_collects_again() -> None:
    # A pause held when a worker process forks would never end in the child (its thread does not exist there).
    import os

    with gc_paused():
        pid = os.fork()
        if pid == 0:
            os._exit(0 if gc.isenabled() else 1)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert gc.isenabled()
