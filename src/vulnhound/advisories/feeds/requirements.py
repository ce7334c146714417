"""Version-requirement strings (Cargo, node-semver, RubyGems) → intervals → OSV range events.

Native databases say which versions are *patched*/*unaffected* (or vulnerable) as requirement strings; OSV wants
ordered introduced/fixed/last_affected events. The interval algebra here is the one rustsec's OSV export uses
(complement of the unaffected ranges, inclusive bounds bumped to the next semver), generalized over a scheme.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from vulnhound.advisories.model import Event, EventKind


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


# --- semver -----------------------------------------------------------------------------------------------------

_SEMVER = re.compile(
    r"^v?(?P<maj>0|[1-9]\d*)\.(?P<min>0|[1-9]\d*)\.(?P<pat>0|[1-9]\d*)(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$"
)


def _semver_key(v: str) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
    m = _SEMVER.match(v)
    if not m:
        raise RequirementError(f"not a semver version: {v!r}")
    pre = m.group("pre")
    ids: tuple[tuple[int, int | str], ...] = ()
    if pre:
        ids = tuple((0, int(p)) if p.isdigit() else (1, p) for p in pre.split("."))
    # A release sorts after all of its pre-releases.
    return int(m.group("maj")), int(m.group("min")), int(m.group("pat")), 0 if pre else 1, ids


def semver_cmp(a: str, b: str) -> int:
    ka, kb = _semver_key(a), _semver_key(b)
    return (ka > kb) - (ka < kb)


def semver_successor(v: str) -> str:
    """The lowest version above ``v`` under semver precedence: 1.2.3 → 1.2.4-0, 1.0.0-rc.1 → 1.0.0-rc.1.0."""
    m = _SEMVER.match(v)
    if not m:
        raise RequirementError(f"not a semver version: {v!r}")
    if m.group("pre"):
        return f"{m.group('maj')}.{m.group('min')}.{m.group('pat')}-{m.group('pre')}.0"
    return f"{m.group('maj')}.{m.group('min')}.{int(m.group('pat')) + 1}-0"


SEMVER = Scheme(semver_cmp, semver_successor)


# --- RubyGems ---------------------------------------------------------------------------------------------------

# Gem::Version's pattern, relaxed to take "1beta" as RubyGems' own comparison does.
_GEM_VERSION = re.compile(r"^[0-9]+[0-9a-zA-Z]*(?:\.[0-9a-zA-Z]+)*(?:-[0-9A-Za-z.-]+)?$")


def _gem_segments(v: str) -> list[int | str]:
    v = v.strip()
    if not _GEM_VERSION.match(v):
        raise RequirementError(f"not a RubyGems version: {v!r}")
    # Gem::Version treats "-" as ".pre." and splits digit/letter runs into separate segments.
    v = v.replace("-", ".pre.")
    segs: list[int | str] = [int(s) if s.isdigit() else s for s in re.findall(r"[0-9]+|[a-z]+", v, re.I)]
    # Canonical form: trailing zeros of the release part and of the pre-release part carry no weight.
    first_str = next((i for i, s in enumerate(segs) if isinstance(s, str)), len(segs))
    rel, pre = segs[:first_str], segs[first_str:]
    while rel and rel[-1] == 0:
        rel.pop()
    while pre and pre[-1] == 0:
        pre.pop()
    return rel + pre


def gem_cmp(a: str, b: str) -> int:
    """Gem::Version#<=>: segment by segment, missing as 0, a string (pre-release) below any number."""
    sa, sb = _gem_segments(a), _gem_segments(b)
    for i in range(max(len(sa), len(sb))):
        x = sa[i] if i < len(sa) else 0
        y = sb[i] if i < len(sb) else 0
        if x == y:
            continue
        if isinstance(x, str) and isinstance(y, int):
            return -1
        if isinstance(x, int) and isinstance(y, str):
            return 1
        return -1 if x < y else 1  # type: ignore[operator]  # same type here
    return 0


def gem_successor(v: str) -> str:
    # RubyGems has no "next version"; a trailing ".0.1" is above v and below every version anyone publishes.
    return f"{v}.0.1"


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


def _max_start(a: Bound | None, b: Bound | None, scheme: Scheme) -> Bound | None:
    if a is None:
        return b
    if b is None:
        return a
    c = scheme.cmp(a.version, b.version)
    if c:
        return a if c > 0 else b
    return a if not a.inclusive else b


def _min_end(a: Bound | None, b: Bound | None, scheme: Scheme) -> Bound | None:
    if a is None:
        return b
    if b is None:
        return a
    c = scheme.cmp(a.version, b.version)
    if c:
        return a if c < 0 else b
    return a if not a.inclusive else b


def intersect(a: Sequence[Interval], b: Sequence[Interval], scheme: Scheme) -> list[Interval]:
    out = [
        Interval(_max_start(x.start, y.start, scheme), _min_end(x.end, y.end, scheme)) for x in a for y in b
    ]
    return normalize(out, scheme)


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


# --- requirement parsers ----------------------------------------------------------------------------------------

_PARTIAL = re.compile(r"^v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def _partial(text: str) -> tuple[int | None, int | None, int | None, str | None]:
    m = _PARTIAL.match(text.strip())
    if not m:
        raise RequirementError(f"bad version {text!r}")

    def num(s: str | None) -> int | None:
        return None if s is None or s in "xX*" else int(s)

    major, minor, patch = num(m.group(1)), num(m.group(2)), num(m.group(3))
    if major is None and (minor is not None or patch is not None):
        raise RequirementError(f"bad version {text!r}")
    if minor is None and patch is not None:
        raise RequirementError(f"bad version {text!r}")
    return major, minor, patch, m.group(4)


def _full(major: int | None, minor: int | None, patch: int | None, pre: str | None) -> str:
    base = f"{major or 0}.{minor or 0}.{patch or 0}"
    return f"{base}-{pre}" if pre else base


def _caret(major: int | None, minor: int | None, patch: int | None, pre: str | None) -> Interval:
    start = Bound(_full(major, minor, patch, pre), True)
    if major is None:
        return Interval(None, None)
    if major > 0 or minor is None:
        end = f"{major + 1}.0.0-0"
    elif minor > 0 or patch is None:
        end = f"0.{minor + 1}.0-0"
    else:
        end = f"0.0.{patch + 1}-0"
    return Interval(start, Bound(end, False))


def _tilde(major: int | None, minor: int | None, patch: int | None, pre: str | None) -> Interval:
    if major is None:
        return Interval(None, None)
    start = Bound(_full(major, minor, patch, pre), True)
    end = f"{major + 1}.0.0-0" if minor is None else f"{major}.{minor + 1}.0-0"
    return Interval(start, Bound(end, False))


def _xrange(major: int | None, minor: int | None, patch: int | None, pre: str | None) -> Interval:
    """A bare (possibly partial) version: node-semver reads "1.2" as 1.2.x; an exact full version is [v, v]."""
    if major is None:
        return Interval(None, None)
    if minor is None:
        return Interval(Bound(f"{major}.0.0", True), Bound(f"{major + 1}.0.0-0", False))
    if patch is None:
        return Interval(Bound(f"{major}.{minor}.0", True), Bound(f"{major}.{minor + 1}.0-0", False))
    v = _full(major, minor, patch, pre)
    return Interval(Bound(v, True), Bound(v, True))


def _comparator(op: str, ver: str, *, cargo: bool) -> Interval:
    major, minor, patch, pre = _partial(ver)
    if op == "^" or (op == "" and cargo):  # Cargo reads a bare "1.2.3" as ^1.2.3
        return _caret(major, minor, patch, pre)
    if op in ("~", "~>"):
        return _tilde(major, minor, patch, pre)
    if major is None:  # "*", ">=*": any version; "<*", ">*": none
        return Interval(None, None) if op in ("", "=", ">=", "<=") else Interval(Bound("0.0.0", False), None)
    full = _full(major, minor, patch, pre)
    if cargo:
        # rustsec's comp_to_ver: missing minor/patch are zeros, no x-range reading.
        simple = {
            "=": Interval(Bound(full, True), Bound(full, True)),
            ">=": Interval(Bound(full, True), None),
            ">": Interval(Bound(full, False), None),
            "<": Interval(None, Bound(full, False)),
            "<=": Interval(None, Bound(full, True)),
        }
        if op not in simple:
            raise RequirementError(f"unsupported operator {op!r}")
        return simple[op]
    xr = _xrange(major, minor, patch, pre)
    if op in ("", "="):
        return xr
    if op == ">=":
        return Interval(xr.start, None)
    if op == ">":  # ">1.2" is above every 1.2.x
        if xr.end is not None and patch is None:
            return Interval(Bound(xr.end.version, True), None)
        return Interval(Bound(full, False), None)
    if op == "<":
        return Interval(None, Bound(f"{full}-0" if patch is None else full, False))
    if op == "<=":
        return Interval(None, xr.end)
    raise RequirementError(f"unsupported operator {op!r}")


_OP = re.compile(r"^\s*(>=|<=|~>|>|<|=|\^|~)?\s*(.+?)\s*$")


def _conjunction(parts: Iterable[tuple[str, str]], *, cargo: bool) -> Interval:
    acc = Interval(None, None)
    for op, ver in parts:
        iv = _comparator(op, ver, cargo=cargo)
        acc = Interval(_max_start(acc.start, iv.start, SEMVER), _min_end(acc.end, iv.end, SEMVER))
    return acc


def cargo_requirement(req: str) -> Interval:
    """One Cargo requirement ("^1.2", ">= 1.0, < 1.4.2", "=0.3.0") → an interval (rustsec's rules)."""
    parts: list[tuple[str, str]] = []
    for piece in req.split(","):
        if not piece.strip():
            raise RequirementError(f"empty comparator in {req!r}")
        m = _OP.match(piece)
        if not m:
            raise RequirementError(f"bad comparator {piece!r}")
        parts.append((m.group(1) or "", m.group(2)))
    if len(parts) > 2:
        raise RequirementError(f"too many comparators in {req!r}")
    return _conjunction(parts, cargo=True)


def npm_range(text: str) -> list[Interval]:
    """A node-semver range ("<1.2.3 || >=2.0.0 <2.1.0", "1.x", "^4.0.0", "1.0.0 - 1.2.0") → intervals."""
    out: list[Interval] = []
    for alt in text.split("||"):
        alt = alt.strip()
        if alt in ("", "*", "x", "X"):
            out.append(Interval(None, None))
            continue
        hy = re.match(r"^(\S+)\s+-\s+(\S+)$", alt)
        if hy:
            lo = _comparator(">=", hy.group(1), cargo=False)
            hi = _comparator("<=", hy.group(2), cargo=False)
            out.append(Interval(lo.start, hi.end))
            continue
        # Join an operator separated from its version by spaces (">= 1.2.3").
        tokens = re.sub(r"(>=|<=|>|<|=|\^|~)\s+", r"\1", alt).split()
        parts: list[tuple[str, str]] = []
        for tok in tokens:
            m = re.match(r"^(>=|<=|>|<|=|\^|~)?(.+)$", tok)
            if not m:
                raise RequirementError(f"bad comparator {tok!r} in {text!r}")
            parts.append((m.group(1) or "", m.group(2)))
        out.append(_conjunction(parts, cargo=False))
    return normalize(out, SEMVER)


def gem_requirement(req: str) -> Interval:
    """A RubyGems requirement (">= 1.2, < 2", "~> 2.1.3", "= 1.0") → an interval on Gem::Version order."""
    acc = Interval(None, None)
    for piece in req.split(","):
        m = re.match(r"^\s*(>=|<=|~>|!=|>|<|=)?\s*(\S+)\s*$", piece)
        if not m:
            raise RequirementError(f"bad requirement {piece!r}")
        op, ver = m.group(1) or "=", m.group(2)
        _gem_segments(ver)  # validates
        if op == "~>":
            iv = Interval(Bound(ver, True), Bound(_gem_bump(ver), False))
        elif op == "=":
            iv = Interval(Bound(ver, True), Bound(ver, True))
        elif op == ">=":
            iv = Interval(Bound(ver, True), None)
        elif op == ">":
            iv = Interval(Bound(ver, False), None)
        elif op == "<":
            iv = Interval(None, Bound(ver, False))
        elif op == "<=":
            iv = Interval(None, Bound(ver, True))
        else:
            raise RequirementError(f"unsupported operator {op!r} in {req!r}")
        acc = Interval(_max_start(acc.start, iv.start, RUBYGEMS), _min_end(acc.end, iv.end, RUBYGEMS))
    return acc


def _gem_bump(ver: str) -> str:
    """Gem::Version#bump: drop pre-release parts and the last segment, then increment the new last one."""
    segs = [s for s in re.split(r"\.", ver.replace("-", ".pre.")) if s]
    while any(not s.isdigit() for s in segs):
        segs = segs[: next(i for i, s in enumerate(segs) if not s.isdigit())]
    if len(segs) > 1:
        segs.pop()
    segs[-1] = str(int(segs[-1]) + 1)
    return ".".join(segs)
