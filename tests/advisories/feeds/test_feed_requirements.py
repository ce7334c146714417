"""Requirement strings → intervals → OSV events (Cargo, node-semver, RubyGems), and the two version orders used."""

from __future__ import annotations

from pathlib import Path

import pytest

from vulnhound.advisories.feeds.requirements import (
    RUBYGEMS,
    SEMVER,
    Bound,
    Interval,
    RequirementError,
    cargo_requirement,
    complement,
    gem_cmp,
    gem_requirement,
    intersect,
    npm_range,
    semver_cmp,
    semver_successor,
    to_events,
)


def _events(intervals, scheme=SEMVER, **kw) -> list[tuple[str, str]]:
    return [(e.kind.value, e.version) for e in to_events(intervals, scheme, **kw)]


def _ordering_cases(path: Path) -> list[tuple[str, str, str]]:
    out = []
    for line in path.read_text().splitlines():
        line = line.split("//")[0].strip()
        if not line:
            continue
        a, op, b = line.split(" ")
        out.append((a, op, b))
    return out


def _check(cmp, cases) -> list[str]:
    want = {"<": -1, "=": 0, ">": 1}
    return [f"{a} {op} {b}" for a, op, b in cases if cmp(a, b) != want[op]]


def test_gem_order_matches_scalibr_rubygems_fixtures(vulndata: Path) -> None:
    base = vulndata / "osv-version-fixtures/scalibr-semantic/semantic/testdata"
    cases = _ordering_cases(base / "rubygems-versions.txt") + _ordering_cases(base / "rubygems-versions-generated.txt")
    assert len(cases) > 2000
    assert _check(gem_cmp, cases) == []


def test_semver_order_matches_scalibr_semver_fixtures(vulndata: Path) -> None:
    cases = _ordering_cases(vulndata / "osv-version-fixtures/scalibr-semantic/semantic/testdata/semver-versions.txt")
    # The order is matching.versions' SemverVersion, which also takes the file's loose forms ("1", "v1.2").
    assert len(cases) > 80
    assert _check(semver_cmp, cases) == []


@pytest.mark.parametrize(
    ("v", "succ"), [("1.2.3", "1.2.4-0"), ("1.0.0-rc.1", "1.0.0-rc.1.0"), ("0.0.0", "0.0.1-0")]
)
def test_semver_successor(v: str, succ: str) -> None:
    assert semver_successor(v) == succ
    assert semver_cmp(v, succ) < 0


@pytest.mark.parametrize(
    ("req", "start", "end"),
    [
        ("^1.2.3", Bound("1.2.3", True), Bound("2.0.0-0", False)),
        ("^0.2", Bound("0.2.0", True), Bound("0.3.0-0", False)),
        ("^0.0.3", Bound("0.0.3", True), Bound("0.0.4-0", False)),
        ("^0.0", Bound("0.0.0", True), Bound("0.1.0-0", False)),
        ("1.2.3", Bound("1.2.3", True), Bound("2.0.0-0", False)),  # bare = caret in Cargo
        ("~1.2", Bound("1.2.0", True), Bound("1.3.0-0", False)),
        ("=0.3", Bound("0.3.0", True), Bound("0.3.0", True)),
        (">= 1.0, < 1.4.2", Bound("1.0.0", True), Bound("1.4.2", False)),
        ("< 0.3", None, Bound("0.3.0", False)),
        ("> 1.2.3", Bound("1.2.3", False), None),
    ],
)
def test_cargo_requirement(req: str, start: Bound | None, end: Bound | None) -> None:
    assert cargo_requirement(req) == Interval(start, end)


@pytest.mark.parametrize("req", ["", ">= 1, < 2, >= 3", "~~> 1", ">= banana"])
def test_cargo_requirement_rejects(req: str) -> None:
    with pytest.raises(RequirementError):
        cargo_requirement(req)


def test_complement_like_rustsec_export() -> None:
    safe = [cargo_requirement(">= 1.8.1"), cargo_requirement("< 0.3.0")]
    assert _events(complement(safe, SEMVER), zero="0.0.0-0", inclusive_end="successor") == [
        ("introduced", "0.3.0"),
        ("fixed", "1.8.1"),
    ]
    assert _events(complement([], SEMVER), zero="0.0.0-0") == [("introduced", "0.0.0-0")]
    # "<= 1.0.0" unaffected → affected from the next semver version
    assert _events(complement([cargo_requirement("<= 1.0.0")], SEMVER)) == [("introduced", "1.0.1-0")]


@pytest.mark.parametrize(
    ("text", "events"),
    [
        ("<=1.5.1", [("introduced", "0"), ("last_affected", "1.5.1")]),
        ("*", [("introduced", "0")]),
        ("1.x", [("introduced", "1.0.0"), ("fixed", "2.0.0-0")]),
        (">= 1.0.0 < 1.4.6 || 2.0.0", [("introduced", "1.0.0"), ("fixed", "1.4.6"),
                                       ("introduced", "2.0.0"), ("last_affected", "2.0.0")]),
        ("<1.6.5 || < 2.1.7 > 2.0.0", [("introduced", "0"), ("fixed", "1.6.5"),
                                       ("introduced", "2.0.1-0"), ("fixed", "2.1.7")]),
        ("1.2.3 - 2.3", [("introduced", "1.2.3"), ("fixed", "2.4.0-0")]),
        ("<1.2", [("introduced", "0"), ("fixed", "1.2.0-0")]),
        # node-semver: ">1.2" is ">=1.3.0" (satisfies("1.3.0-0", ">1.2") is false), like every other lower bound here
        (">1.2", [("introduced", "1.3.0")]),
        ("<*", [("introduced", "0"), ("fixed", "0.0.0-0")]),  # "<0.0.0-0": nothing
    ],
)
def test_npm_range(text: str, events: list[tuple[str, str]]) -> None:
    assert _events(npm_range(text)) == events


def test_vulnerable_minus_patched_for_node_core() -> None:
    affected = intersect(npm_range("8.x || 6.x"), complement(npm_range("^8.1.4 || ^6.11.1"), SEMVER), SEMVER)
    assert _events(affected) == [
        ("introduced", "6.0.0"),
        ("fixed", "6.11.1"),
        ("introduced", "8.0.0"),
        ("fixed", "8.1.4"),
    ]


@pytest.mark.parametrize(
    ("req", "interval"),
    [
        ("~> 2.1.3", Interval(Bound("2.1.3", True), Bound("2.2", False))),
        ("~> 2.1", Interval(Bound("2.1", True), Bound("3", False))),
        ("~> 3.1.0.rc6", Interval(Bound("3.1.0.rc6", True), Bound("3.2", False))),
        (">= 2.3.5, <= 2.3.14", Interval(Bound("2.3.5", True), Bound("2.3.14", True))),
        ("= 1.0", Interval(Bound("1.0", True), Bound("1.0", True))),
        ("1.0", Interval(Bound("1.0", True), Bound("1.0", True))),
    ],
)
def test_gem_requirement(req: str, interval: Interval) -> None:
    assert gem_requirement(req) == interval


def test_gem_complement_uses_last_affected_for_exclusive_patched() -> None:
    safe = [gem_requirement("< 3.0.0"), gem_requirement("~> 2.3.11"), gem_requirement("> 3.0.4")]
    assert _events(complement(safe, RUBYGEMS), RUBYGEMS) == [("introduced", "3.0.0"), ("last_affected", "3.0.4")]


@pytest.mark.parametrize("req", ["=> 1.2", "!= 1.0", ">= 1.0 beta"])
def test_gem_requirement_rejects(req: str) -> None:
    with pytest.raises(RequirementError):
        gem_requirement(req)
