"""Verdicts for many versions of one package name at once, by the rules and with the reasons of ``ranges.evaluate``.

The bounds and enumerated versions of a name's candidate entries are parsed and ranked once per scheme; a version
is then placed among them by bisection and every comparison of the OSV walk is an integer comparison. Versions at
the same place (same rank class) get the same verdicts, so those are computed once per class and kept.
"""

# Anything out of the ordinary — an unparseable bound or version, a legacy PEP 440 version, an entry that is only a
# GIT range, ranges of two schemes in one entry, an unknown scheme — is left to ``ranges.evaluate`` itself, which
# stays the reference (tests/matching/matcher/test_compiled.py compares both over the whole corpus).

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass, field

from vulnhound.advisories.model import Affected, Event, EventKind, RangeType, VendorStatus
from vulnhound.matching.ranges import OPEN_STATUSES, _interval, _prepare, _scheme, _status_note
from vulnhound.matching.versions.interface import InvalidVersion, Version
from vulnhound.matching.versions.pep440 import Pep440Version
from vulnhound.matching.versions.registry import UnknownEcosystem, parse, scheme_for

_FIXED, _INTRODUCED = EventKind.FIXED, EventKind.INTRODUCED
_LIMIT, _LAST = EventKind.LIMIT, EventKind.LAST_AFFECTED
# Per-table memo bound: a long-running matcher meets many distinct versions of popular names.
_MAX_CLASSES = 4096
# Tables kept across scans (about 25 kB each on the shared corpus): all names of a large corpus, not unbounded.
_MAX_TABLES = 20_000
# Schemes whose comparison key is a plain tuple: a total order, so a bisection places a version exactly.
_TUPLE_KEYED = frozenset({"pep440", "semver", "cargo", "go", "nuget", "dpkg", "rpm"})
_UNSEEN: tuple[int, ...] = (-1,)


@dataclass(frozen=True, slots=True)
class Hit:
    """An affected verdict for candidate ``index``; ``reason(version)`` rebuilds ``evaluate``'s reason."""

    index: int
    text: str  # what follows the version in the reason, or the whole reason when ``whole``
    fixed: str | None
    whole: bool = False
    listed: str | None = None  # enumerated version equal to the class, for the listing rule
    listing: frozenset[str] = frozenset()

    def reason(self, version: str) -> str:
        if self.listed is not None:
            how = "" if version in self.listing else f" (as {self.listed!r})"
            return f"{version} is listed in enumerated versions{how}{self.text}"
        return self.text if self.whole else version + self.text


_Bound = tuple[int | None, EventKind, Event, Version | None]  # (rank, kind, the record's event, its version)
_CRange = tuple[str, tuple[_Bound, ...]]  # (label, bounds in the scheme's order)


@dataclass(slots=True)
class _Entry:
    kind: str  # "eval", "never" (vendor says not affected), "always" (open status, nothing listed), "slow"
    note: str = ""
    range_scheme: str | None = None
    listing_scheme: str | None = None
    raw_ranges: list[tuple[str, tuple[tuple[str | None, EventKind, Event], ...]]] = field(default_factory=list)
    versions: tuple[str, ...] = ()
    # filled once the table's versions are ranked
    ranges: list[_CRange] = field(default_factory=list)
    rpos: int = -1  # position of the range scheme in a class tuple
    lpos: int = -1  # position of the listing scheme
    listing: dict[int, str] = field(default_factory=dict)  # rank → first enumerated version of that rank
    vset: frozenset[str] = frozenset()


def _compile(eco: str, eco_scheme: str | None, aff: Affected) -> _Entry:
    if aff.status is VendorStatus.NOT_AFFECTED:
        return _Entry("never")
    note = _status_note(aff)
    if not aff.ranges and not aff.versions:
        return _Entry("always", note) if aff.status in OPEN_STATUSES else _Entry("slow")
    entry = _Entry("eval", note, versions=aff.versions, vset=frozenset(aff.versions))
    if aff.versions:
        if eco_scheme is None:
            return _Entry("slow")
        entry.listing_scheme = eco_scheme
    for n, rng in enumerate(aff.ranges, 1):
        if rng.type is RangeType.GIT:
            if len(aff.ranges) == 1 and not aff.versions:
                return _Entry("slow")  # undecidable: evaluate says why
            continue  # with other ranges or versions beside it, a GIT range decides nothing
        try:
            scheme = _scheme(eco, rng).scheme
        except UnknownEcosystem:
            return _Entry("slow")
        if entry.range_scheme not in (None, scheme):
            return _Entry("slow")  # two schemes in one entry: evaluate compares their fixes as it can
        entry.range_scheme = scheme
        prepared = _prepare(scheme, rng.events)
        if isinstance(prepared, str):
            return _Entry("slow")
        order = prepared[0]
        bounds = tuple((None if b is None else b.raw, ev.kind, ev) for b, ev in order)
        entry.raw_ranges.append((f"range #{n} ({rng.type.value})", bounds))
    return entry


class NameTable:
    """One (ecosystem, name) and its candidate entries, compiled; ``hits`` answers per installed version."""

    def __init__(self, ecosystem: str, affected: Sequence[Affected]) -> None:
        self.affected = list(affected)  # pins the entries: the table cache is keyed by their ids
        try:
            eco_scheme: str | None = scheme_for(ecosystem).scheme
        except UnknownEcosystem:
            eco_scheme = None
        self.entries = [_compile(ecosystem, eco_scheme, a) for a in self.affected]
        self.slow = [i for i, e in enumerate(self.entries) if e.kind == "slow"]
        self._classes: dict[str, tuple[int, ...] | None] = {}
        self._memo: dict[tuple[int, ...], tuple[Hit, ...]] = {}
        found: dict[str, dict[str, Version]] = {}  # scheme → raw → parsed
        for e in self.entries:
            if e.range_scheme is not None:
                known = found.setdefault(e.range_scheme, {})
                for _, bounds in e.raw_ranges:
                    for raw, _, _ in bounds:
                        if raw is not None and raw not in known:
                            known[raw] = parse(e.range_scheme, raw)  # parsed (and cached) by _prepare already
            if e.listing_scheme is not None:
                known = found.setdefault(e.listing_scheme, {})
                for raw in e.versions:
                    if raw not in known:
                        try:
                            known[raw] = parse(e.listing_scheme, raw)
                        except InvalidVersion:
                            continue  # as in ranges._listed: an unreadable listed version matches by string only
        self.schemes = sorted(found)
        self.keys: list[list[Version]] = []
        self.checks: list[list[tuple[Version, int]] | None] = []
        ranks: dict[str, dict[str, int]] = {}
        for scheme in self.schemes:
            distinct: list[Version] = []
            rank_of: dict[str, int] = {}
            for v in sorted(found[scheme].values()):
                if not distinct or distinct[-1] != v:
                    distinct.append(v)
                rank_of[v.raw] = 2 * len(distinct) - 1  # odd: equal to a known version; even: between two
            self.keys.append(distinct)
            ranks[scheme] = rank_of
            # A pairwise (CmpKey) order need not be transitive on odd spellings: each placement is then checked
            # against every known version of the scheme, and an inconsistent one goes to the reference evaluator.
            self.checks.append(None if scheme in _TUPLE_KEYED else
                               [(v, rank_of[raw]) for raw, v in found[scheme].items()])
        where = {s: i for i, s in enumerate(self.schemes)}
        for e in self.entries:
            if e.range_scheme is not None:
                rr = ranks[e.range_scheme]
                e.rpos = where[e.range_scheme]
                e.ranges = [(label, tuple((None, k, ev, None) if raw is None else (rr[raw], k, ev, known[raw])
                                          for raw, k, ev in bounds))
                            for label, bounds in e.raw_ranges for known in (found[e.range_scheme],)]
            if e.listing_scheme is not None:
                rl = ranks[e.listing_scheme]
                e.lpos = where[e.listing_scheme]
                for raw in e.versions:
                    r = rl.get(raw)
                    if r is not None:
                        e.listing.setdefault(r, raw)

    def _class_of(self, version: str) -> tuple[int, ...] | None:
        out = []
        for scheme, keys, checks in zip(self.schemes, self.keys, self.checks, strict=True):
            try:
                v = parse(scheme, version)
            except InvalidVersion:
                return None
            if type(v) is Pep440Version and v.legacy:
                return None
            i = bisect_left(keys, v)
            pos = 2 * i + 1 if i < len(keys) and keys[i] == v else 2 * i
            if checks is not None and not all(v < k if pos < r else (v == k if pos == r else k < v)
                                              for k, r in checks):
                return None
            out.append(pos)
        return tuple(out)

    def hits(self, version: str) -> tuple[Hit, ...] | None:
        """Affected verdicts of the compiled entries for ``version``; None: evaluate every entry the slow way."""
        cls = self._classes.get(version, _UNSEEN)
        if cls is _UNSEEN:
            if len(self._classes) >= _MAX_CLASSES:
                self._classes.clear()
            cls = self._classes[version] = self._class_of(version)
        if cls is None:
            return None
        hits = self._memo.get(cls)
        if hits is None:
            if len(self._memo) >= _MAX_CLASSES:
                self._memo.clear()
            hits = self._memo[cls] = tuple(h for i, e in enumerate(self.entries) if (h := _verdict(i, e, cls)))
        return hits


def _nearest(fixes: list[Version]) -> str | None:
    return str(min(fixes)) if fixes else None  # by the scheme itself, exactly as ranges._nearest


def _verdict(index: int, e: _Entry, cls: tuple[int, ...]) -> Hit | None:
    """``ranges.evaluate`` in rank space for an "eval" entry; "always" and "never" entries need no version."""
    if e.kind != "eval":
        return Hit(index, "no ranges or versions given: all versions affected" + e.note, None, True) \
            if e.kind == "always" else None
    results: list[tuple[str | None, list[Version]]] = []  # (reason suffix when affected, fixes above)
    v = cls[e.rpos] if e.rpos >= 0 else 0
    for label, order in e.ranges:
        fixes = [bv for b, k, _, bv in order if k is _FIXED and bv is not None and b is not None and v < b]
        limits = [b for b, k, _, _ in order if k is _LIMIT and b is not None]
        if limits and not any(v < b for b in limits):
            results.append((None, fixes))
            continue
        vulnerable, opened_at = False, -1
        for i, (b, k, _, _) in enumerate(order):
            if k is _INTRODUCED and (b is None or v >= b):
                vulnerable, opened_at = True, i
            elif (k is _FIXED and b is not None and v >= b) or (k is _LAST and b is not None and v > b):
                vulnerable = False
        if not vulnerable:
            results.append((None, fixes))
            continue
        closing = next((ev for _, k, ev, _ in order[opened_at + 1:] if k is not _INTRODUCED), None)
        results.append((f" is in {_interval(order[opened_at][2], closing)} of {label}", fixes))
    all_fixes = [f for _, fixes in results for f in fixes]
    for suffix, fixes in results:
        if suffix is not None:
            return Hit(index, suffix + e.note, _nearest(fixes) or _nearest(all_fixes))
    if e.lpos >= 0:
        listed = e.listing.get(cls[e.lpos])
        if listed is not None:
            return Hit(index, e.note, _nearest(all_fixes), listed=listed, listing=e.vset)
    return None


_TABLES: dict[tuple[object, ...], NameTable] = {}


def table_for(ecosystem: str, name: str, affected: Sequence[Affected]) -> NameTable:
    """The compiled table of these entries, kept across scans while the entries are (a warm knowledge base)."""
    key = (ecosystem, name, *map(id, affected))
    table = _TABLES.get(key)
    if table is None:
        if len(_TABLES) >= _MAX_TABLES:
            _TABLES.clear()
        table = _TABLES[key] = NameTable(ecosystem, affected)
    return table
