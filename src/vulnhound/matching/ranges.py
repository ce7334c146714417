"""Decide whether one package version is affected by one OSV ``Affected`` entry, by the OSV evaluation rules.

Undecidable cases (unparseable version or bound, GIT-only, legacy PyPI version) give ``affected=None`` and a reason.
"""

# Rules: events are sorted by the scheme (stable for equal versions, "0" first) and walked as the OSV schema's
# pseudo-code walks them: introduced opens, fixed / last_affected close, limit caps. A version listed in
# ``versions`` is affected whatever the ranges say.

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from vulnhound.advisories.model import Affected, Event, EventKind, Range, RangeType, VendorStatus
from vulnhound.matching.versions.interface import InvalidVersion, Version
from vulnhound.matching.versions.pep440 import Pep440Version
from vulnhound.matching.versions.registry import UnknownEcosystem, parse, scheme_for
from vulnhound.matching.versions.semver import GoVersion

# Vendor statuses that, with no ranges and no versions, mean every version is affected.
OPEN_STATUSES = frozenset(
    {
        VendorStatus.AFFECTED,
        VendorStatus.UNFIXED,
        VendorStatus.NO_DSA,
        VendorStatus.IGNORED,
        VendorStatus.POSTPONED,
        VendorStatus.WONT_FIX,
        VendorStatus.END_OF_LIFE,
        VendorStatus.UNDETERMINED,
    }
)


@dataclass(frozen=True, slots=True)
class Verdict:
    """affected is None when it could not be decided; reason says why in plain words."""

    affected: bool | None
    reason: str
    matched_rule: str | None = None  # "range #1", "versions", "status" — what decided it
    fixed_version: str | None = None  # nearest fixed version above the evaluated one, for remediation


@dataclass(frozen=True, slots=True)
class _RangeResult:
    affected: bool | None
    reason: str
    fixes_above: tuple[Version, ...] = ()


def _scheme(ecosystem: str, rng: Range) -> type[Version]:
    if rng.type is RangeType.SEMVER and ecosystem.split(":", 1)[0] == "Go":
        return GoVersion  # SemVer ordering, and it also reads the toolchain's "go1.21.3"
    return scheme_for(ecosystem, rng.type.value)


def _describe(events: Sequence[Event]) -> str:
    return ", ".join(f"{e.kind.value} {e.version}" for e in events)


def _interval(opened: Event, closing: Event | None) -> str:
    if closing is None:
        return f"[introduced {opened.version}, no fix)"
    if closing.kind is EventKind.LAST_AFFECTED:
        return f"[introduced {opened.version}, last_affected {closing.version}]"
    return f"[introduced {opened.version}, {closing.kind.value} {closing.version})"


_Ordered = tuple[tuple[Version | None, Event], ...]


@lru_cache(maxsize=65536)
def _prepare(scheme: str, events: tuple[Event, ...]) -> tuple[_Ordered, str] | str:
    """Events parsed and sorted once per (scheme, events); a string is the error for an unparseable bound."""
    keyed: list[tuple[tuple[int, Version | None], Event]] = []
    for ev in events:
        if ev.kind is EventKind.INTRODUCED and ev.version == "0":
            keyed.append(((0, None), ev))  # "0" sorts before every version of every scheme
            continue
        if ev.kind is EventKind.LIMIT and ev.version == "*":
            continue  # an unbounded limit limits nothing
        try:
            keyed.append(((1, parse(scheme, ev.version)), ev))
        except InvalidVersion as e:
            return f"has an unparseable {ev.kind.value} bound {ev.version!r}: {e}"
    # Stable: events at equal versions keep the record's order ("fixed 3.1.1, introduced 3.1.1" re-opens).
    keyed.sort(key=lambda ke: ke[0])
    order = tuple((k[1], ev) for k, ev in keyed)
    return order, _describe([ev for _, ev in order])


def _eval_range(ecosystem: str, rng: Range, n: int, version: str) -> _RangeResult:
    label = f"range #{n} ({rng.type.value})"
    if rng.type is RangeType.GIT:
        return _RangeResult(None, f"{label} is a GIT commit range and cannot be evaluated on a version")
    try:
        cls = _scheme(ecosystem, rng)
    except UnknownEcosystem as e:
        return _RangeResult(None, f"{label}: {e}")
    try:
        v = parse(cls.scheme, version)
    except InvalidVersion as e:
        return _RangeResult(None, f"unparseable version {version!r} for scheme {cls.scheme}: {e}")
    if type(v) is Pep440Version and v.legacy:
        return _RangeResult(None, f"{version!r} is not a PEP 440 version; its order against {label} is unreliable")
    prepared = _prepare(cls.scheme, rng.events)
    if isinstance(prepared, str):
        return _RangeResult(None, f"{label} {prepared}")
    order, described = prepared
    fixes_above = tuple(b for b, ev in order if ev.kind is EventKind.FIXED and b is not None and v < b)
    limits = [b for b, ev in order if ev.kind is EventKind.LIMIT and b is not None]
    if limits and not any(v < b for b in limits):
        return _RangeResult(False, f"{version} is at or above every limit of {label}", fixes_above)
    vulnerable, opened_at = False, -1
    for i, (b, ev) in enumerate(order):
        if ev.kind is EventKind.INTRODUCED and (b is None or v >= b):
            vulnerable, opened_at = True, i
        elif (ev.kind is EventKind.FIXED and b is not None and v >= b) or (
            ev.kind is EventKind.LAST_AFFECTED and b is not None and v > b
        ):
            vulnerable = False
    if not vulnerable:
        return _RangeResult(False, f"{version} is not in {label}: {described}", fixes_above)
    closing = next((ev for _, ev in order[opened_at + 1 :] if ev.kind is not EventKind.INTRODUCED), None)
    return _RangeResult(True, f"{version} is in {_interval(order[opened_at][1], closing)} of {label}", fixes_above)


def _nearest(fixes: Sequence[Version]) -> str | None:
    return str(min(fixes)) if fixes else None


@lru_cache(maxsize=16384)
def _parsed_listing(scheme: str, versions: tuple[str, ...]) -> dict[Version, str]:
    out: dict[Version, str] = {}
    for listed in versions:
        try:
            out.setdefault(parse(scheme, listed), listed)
        except InvalidVersion:
            continue
    return out


def _listed(affected: Affected, version: str, ecosystem: str) -> str | None:
    """The enumerated version equal to ``version`` (same string, or equal under the ecosystem's scheme)."""
    if version in affected.versions:
        return version
    try:
        cls = scheme_for(ecosystem)
        v = parse(cls.scheme, version)
    except (UnknownEcosystem, InvalidVersion):
        return None
    return _parsed_listing(cls.scheme, affected.versions).get(v)


def _status_note(affected: Affected) -> str:
    if affected.status in (VendorStatus.AFFECTED, VendorStatus.FIXED):
        return ""
    why = f" ({affected.status_reason})" if affected.status_reason else ""
    return f"; vendor status {affected.status.value}{why}"


def evaluate(affected: Affected, version: str, ecosystem: str | None = None) -> Verdict:
    """Is ``version`` of ``affected.name`` affected? See the module docstring for the rules.

    ``ecosystem`` (the package's, e.g. "Debian:12") picks the version scheme when given; by default the
    entry's own ecosystem does.
    """
    eco = ecosystem or affected.ecosystem
    if affected.status is VendorStatus.NOT_AFFECTED:
        return Verdict(False, "vendor says not affected" + _status_note(affected), "status")
    note = _status_note(affected)
    results = [_eval_range(eco, r, n, version) for n, r in enumerate(affected.ranges, 1)]
    all_fixes = [f for r in results for f in r.fixes_above]
    for n, r in enumerate(results, 1):
        if r.affected:
            return Verdict(True, r.reason + note, f"range #{n}", _nearest(r.fixes_above) or _nearest(all_fixes))
    if affected.versions:
        listed = _listed(affected, version, eco)
        if listed is not None:
            how = "" if listed == version else f" (as {listed!r})"
            return Verdict(
                True, f"{version} is listed in enumerated versions{how}" + note, "versions", _nearest(all_fixes)
            )
    if not affected.ranges and not affected.versions:
        if affected.status in OPEN_STATUSES:
            return Verdict(True, "no ranges or versions given: all versions affected" + note, "status")
        return Verdict(None, f"vendor status {affected.status.value} but no ranges or versions to say which")
    # GIT ranges are only undecidable when nothing else describes the affected versions.
    undecided = [
        r
        for rng, r in zip(affected.ranges, results, strict=True)
        if r.affected is None and not (rng.type is RangeType.GIT and (affected.versions or len(results) > 1))
    ]
    if undecided:
        return Verdict(None, "; ".join(r.reason for r in undecided))
    why = [r.reason for r in results if r.affected is False]
    if affected.versions:
        why.append(f"not among {len(affected.versions)} enumerated versions")
    return Verdict(False, "; ".join(why))
