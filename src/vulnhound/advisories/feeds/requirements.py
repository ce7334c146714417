"""Version-requirement strings (Cargo, node-semver, RubyGems) → intervals → OSV range events.

Native databases say which versions are *patched*/*unaffected* (or vulnerable) as requirement strings; OSV wants
ordered introduced/fixed/last_affected events. The interval algebra here is the one rustsec's OSV export uses
(complement of the unaffected ranges, inclusive bounds bumped to the next semver), generalized over a scheme.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from vulnhound.advisories.model import Event, EventKind
from vulnhound.matching.versions.cargo_req import Comparator, comparator_clauses, parse_comparator
from vulnhound.matching.versions.gem_req import parse_gem_req
from vulnhound.matching.versions.interface import InvalidVersion
from vulnhound.matching.versions.npm_range import parse_npm_range
from vulnhound.matching.versions.registry import parse
from vulnhound.matching.versions.rubygems import RubyGemsVersion
from vulnhound.matching.versions.semver import SemverVersion


class RequirementError(ValueError):
    """A requirement string we cannot turn into intervals."""


@dataclass(frozen=True, slots=True)
class Bound:
    version: str
    inclusive: bool


@dataclass(frozen=True, slots=True)
class Interval:
    """Versions between ``start`` and ``end``; None means unbounded on that side."""

    start: Bound | None
    end: Bound | None


@dataclass(frozen=True, slots=True)
class Scheme:
    """How one ecosystem orders versions and names the smallest version above another."""

    cmp: Callable[[str, str], int]
    successor: Callable[[str], str]


# --- orders: the authoritative version schemes, with their errors as requirement errors --------------------------


def _cmp(scheme: str) -> Callable[[str, str], int]:
    def cmp(a: str, b: str) -> int:
        try:
            va, vb = parse(scheme, a), parse(scheme, b)
        except InvalidVersion as exc:
            raise RequirementError(str(exc)) from exc
        return (va > vb) - (va < vb)

    return cmp


semver_cmp = _cmp(SemverVersion.scheme)
gem_cmp = _cmp(RubyGemsVersion.scheme)


def semver_successor(v: str) -> str:
    """The lowest version above ``v`` under semver precedence: 1.2.3 → 1.2.4-0, 1.0.0-rc.1 → 1.0.0-rc.1.0."""
    try:
        ver = parse(SemverVersion.scheme, v)
    except InvalidVersion as exc:
        raise RequirementError(str(exc)) from exc
    assert isinstance(ver, SemverVersion)
    if ver.prerelease:
        return v.removeprefix("v").split("+", 1)[0] + ".0"
    major, minor, patch = ver.release_tuple
    return f"{major}.{minor}.{patch + 1}-0"


def gem_successor(v: str) -> str:
    # RubyGems has no "next version"; a trailing ".0.1" is above v and below every version anyone publishes.
    return f"{v}.0.1"


SEMVER = Scheme(semver_cmp, semver_successor)
RUBYGEMS = Scheme(gem_cmp, gem_successor)


# --- interval algebra -------------------------------------------------------------------------------------------


def _start_le_end(s: Bound | None, e: Bound | None, scheme: Scheme) -> bool:
    if s is None or e is None:
        return True
    c = scheme.cmp(s.version, e.version)
    return c < 0 or (c == 0 and s.inclusive and e.inclusive)


def _start_key(scheme: Scheme) -> Callable[[Interval], Any]:
    def cmp(a: Interval, b: Interval) -> int:
        if a.start is None or b.start is None:
            return (a.start is not None) - (b.start is not None)
        c = scheme.cmp(a.start.version, b.start.version)
        if c:
            return c
        return (not a.start.inclusive) - (not b.start.inclusive)

    return functools.cmp_to_key(cmp)


def _end_max(a: Bound | None, b: Bound | None, scheme: Scheme) -> Bound | None:
    if a is None or b is None:
        return None
    c = scheme.cmp(a.version, b.version)
    if c:
        return a if c > 0 else b
    return a if a.inclusive else b


def _joins(prev_end: Bound | None, cur_start: Bound | None, scheme: Scheme, touching: bool) -> bool:
    """Does an interval starting at ``cur_start`` overlap (or, if ``touching``, abut) one ending at ``prev_end``?"""
    if prev_end is None or cur_start is None:
        return True
    c = scheme.cmp(cur_start.version, prev_end.version)
    if c:
        return c < 0
    return (cur_start.inclusive and prev_end.inclusive) or (touching and (cur_start.inclusive or prev_end.inclusive))


def normalize(intervals: Iterable[Interval], scheme: Scheme, *, merge_touching: bool = True) -> list[Interval]:
    """Sort, drop empty intervals, and merge overlapping (and by default abutting) ones."""
    items = sorted((i for i in intervals if _start_le_end(i.start, i.end, scheme)), key=_start_key(scheme))
    out: list[Interval] = []
    for cur in items:
        if out and _joins(out[-1].end, cur.start, scheme, merge_touching):
            out[-1] = Interval(out[-1].start, _end_max(out[-1].end, cur.end, scheme))
        else:
            out.append(cur)
    return out


def complement(intervals: Sequence[Interval], scheme: Scheme, *, merge_touching: bool = True) -> list[Interval]:
    """Everything not in ``intervals`` (affected = complement of unaffected).

    ``merge_touching=False`` keeps "< 1.0" and ">= 1.0" apart, yielding the empty [1.0, 1.0) rustsec's export emits.
    """
    merged = normalize(intervals, scheme, merge_touching=merge_touching)
    if not merged:
        return [Interval(None, None)]
    out: list[Interval] = []
    first = merged[0]
    if first.start is not None:
        out.append(Interval(None, Bound(first.start.version, not first.start.inclusive)))
    for a, b in itertools.pairwise(merged):
        assert a.end is not None and b.start is not None  # merged: only the ends can be unbounded
        out.append(Interval(Bound(a.end.version, not a.end.inclusive), Bound(b.start.version, not b.start.inclusive)))
    last = merged[-1]
    if last.end is not None:
        out.append(Interval(Bound(last.end.version, not last.end.inclusive), None))
    return out


def _tighter(a: Bound | None, b: Bound | None, scheme: Scheme, larger: bool) -> Bound | None:
    """The more restrictive of two bounds on one side: the larger start or the smaller end, exclusive on a tie."""
    if a is None:
        return b
    if b is None:
        return a
    c = scheme.cmp(a.version, b.version)
    if c:
        return a if (c > 0) == larger else b
    return a if not a.inclusive else b


def _meet(x: Interval, y: Interval, scheme: Scheme) -> Interval:
    """The intersection of two intervals (possibly empty: start above end)."""
    return Interval(_tighter(x.start, y.start, scheme, True), _tighter(x.end, y.end, scheme, False))


def intersect(a: Sequence[Interval], b: Sequence[Interval], scheme: Scheme) -> list[Interval]:
    return normalize((_meet(x, y, scheme) for x in a for y in b), scheme)


def to_events(
    intervals: Sequence[Interval],
    scheme: Scheme,
    *,
    zero: str = "0",
    inclusive_end: str = "last_affected",
) -> tuple[Event, ...]:
    """OSV events for sorted, disjoint affected intervals.

    An exclusive start becomes ``introduced`` at the successor; an inclusive end becomes ``last_affected``, or
    ``fixed`` at the successor when ``inclusive_end="successor"`` (what rustsec's export does).
    """
    events: list[Event] = []
    for iv in intervals:
        if iv.start is None:
            start = zero
        else:
            start = iv.start.version if iv.start.inclusive else scheme.successor(iv.start.version)
        events.append(Event(EventKind.INTRODUCED, start))
        if iv.end is None:
            continue
        if not iv.end.inclusive:
            events.append(Event(EventKind.FIXED, iv.end.version))
        elif inclusive_end == "successor":
            events.append(Event(EventKind.FIXED, scheme.successor(iv.end.version)))
        else:
            events.append(Event(EventKind.LAST_AFFECTED, iv.end.version))
    return tuple(events)


# --- requirement parsers: syntax from matching.versions, clauses → intervals here ------------------------------


def _clause_interval(op: str, version: str) -> Interval:
    """One primitive clause ("=", ">=", ">", "<", "<=") as an interval."""
    if op == "=":
        return Interval(Bound(version, True), Bound(version, True))
    if op in (">=", ">"):
        return Interval(Bound(version, op == ">="), None)
    if op in ("<", "<="):
        return Interval(None, Bound(version, op == "<="))
    raise RequirementError(f"unsupported operator {op!r}")


def _conjunction(clauses: Iterable[tuple[str, str]], scheme: Scheme) -> Interval:
    acc = Interval(None, None)
    for op, ver in clauses:
        acc = _meet(acc, _clause_interval(op, ver), scheme)
    return acc


def _rustsec_clauses(c: Comparator) -> list[tuple[str, str]]:
    # rustsec's OSV export (comp_to_ver) reads a plain comparison with missing minor/patch as zeros ("=0.3" is
    # exactly 0.3.0, not Cargo's 0.3.x); caret, tilde and wildcards keep Cargo's meaning.
    if c.op in ("=", ">=", ">", "<", "<=") and c.major is not None:
        return [(c.op, c.zero_filled)]
    return comparator_clauses(c)


def cargo_requirement(req: str) -> Interval:
    """One Cargo requirement ("^1.2", ">= 1.0, < 1.4.2", "=0.3.0") → an interval (rustsec's rules)."""
    pieces = req.split(",")
    if any(not piece.strip() for piece in pieces):
        raise RequirementError(f"empty comparator in {req!r}")
    if len(pieces) > 2:
        raise RequirementError(f"too many comparators in {req!r}")
    try:
        comparators = [parse_comparator(piece) for piece in pieces]
    except InvalidVersion as exc:
        raise RequirementError(str(exc)) from exc
    return _conjunction((clause for c in comparators for clause in _rustsec_clauses(c)), SEMVER)


def npm_range(text: str) -> list[Interval]:
    """A node-semver range ("<1.2.3 || >=2.0.0 <2.1.0", "1.x", "^4.0.0", "1.0.0 - 1.2.0") → intervals."""
    try:
        sets = parse_npm_range(text)
    except InvalidVersion as exc:
        raise RequirementError(str(exc)) from exc
    return normalize((_conjunction(((op, str(v)) for op, v in comps), SEMVER) for comps in sets), SEMVER)


def gem_requirement(req: str) -> Interval:
    """A RubyGems requirement (">= 1.2, < 2", "~> 2.1.3", "= 1.0") → an interval on Gem::Version order."""
    if any(not piece.strip() for piece in req.split(",")):
        raise RequirementError(f"empty requirement in {req!r}")
    try:
        clauses = parse_gem_req(req)
    except InvalidVersion as exc:
        raise RequirementError(str(exc)) from exc
    if any(op == "!=" for op, _ in clauses):
        raise RequirementError(f"unsupported operator '!=' in {req!r}")  # not one interval
    return _conjunction(clauses, RUBYGEMS)
