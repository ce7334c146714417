"""Labelled cases from real OSV records and the scoring of the whole matcher against them.

A label is (vulnerability group, ecosystem, package name, version) → affected or not. Positives are the versions a
record enumerates; negatives are every other version the corpus knows for the same package (other records'
enumerations and every fixed event). A (group, package) pair is labelled only when every record of the group that
names the package enumerates its versions — a record with ranges alone has no enumerated truth to check against.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vulnhound.advisories.feeds.osv import iter_files
from vulnhound.advisories.model import Advisory, EventKind, RangeType
from vulnhound.inventory.model import Inventory, Location, Package, SourceInfo
from vulnhound.matching.index import MemoryIndex
from vulnhound.matching.keys import LANGUAGE_ECOSYSTEMS, normalize_name
from vulnhound.matching.matcher import match_inventory
from vulnhound.matching.versions.interface import InvalidVersion
from vulnhound.matching.versions.registry import UnknownEcosystem, parse, scheme_for

PACKAGE_TYPE = {eco: ptype for ptype, eco in LANGUAGE_ECOSYSTEMS.items()}

Label = tuple[str, str, str, str]  # (group id, ecosystem, normalized name, version)


def load_advisories(root: Path, source: str, files: Iterable[Path] | None = None) -> list[Advisory]:
    """Records under ``root`` (all, or ``files``) parsed by the OSV feed's own parser (what ``db update`` runs)."""
    if files is None:
        files = sorted(p for p in root.rglob("*") if p.suffix in (".json", ".yaml", ".yml") and p.is_file())
    return [item for item in iter_files(files, root, source) if isinstance(item, Advisory)]


@dataclass
class LabelSet:
    positives: set[Label] = field(default_factory=set)
    negatives: set[Label] = field(default_factory=set)
    packages: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (eco, name) → versions to scan


def _key(eco: str, v: str) -> object:
    try:
        return parse(scheme_for(eco).scheme, v)
    except (UnknownEcosystem, InvalidVersion):
        return v


def build_labels(advisories: Iterable[Advisory], index: MemoryIndex, ecosystems: set[str],
                 keep: Callable[[str, str], bool] = lambda eco, name: True) -> LabelSet:
    advisories = [a for a in advisories if a.withdrawn is None]
    group_of = index.group_of(a.id for a in advisories)
    listed: dict[tuple[str, str, str], set[str]] = defaultdict(set)  # (group, eco, name) → enumerated versions
    unlabelled: set[tuple[str, str, str]] = set()
    universe: dict[tuple[str, str], set[str]] = defaultdict(set)
    for a in advisories:
        for aff in a.affected:
            if aff.ecosystem not in ecosystems or aff.ecosystem not in PACKAGE_TYPE:
                continue
            key = (aff.ecosystem, normalize_name(aff.ecosystem, aff.name))
            if not keep(*key):
                continue
            gkey = (group_of[a.id], *key)
            if aff.versions:
                listed[gkey].update(aff.versions)
            elif aff.ranges:
                unlabelled.add(gkey)
            universe[key].update(aff.versions)
            # GIT ranges' fixed events are commits, not versions of the package.
            universe[key].update(e.version for r in aff.ranges if r.type is not RangeType.GIT for e in r.events
                                 if e.kind is EventKind.FIXED)
    out = LabelSet()
    for gkey, versions in listed.items():
        if gkey in unlabelled:
            continue
        group, eco, name = gkey
        # "1.0" fixed and "1.0.0" listed are the same version to the scheme: the listing wins.
        listed_keys = {_key(eco, w) for w in versions}
        for v in universe[(eco, name)]:
            hit = v in versions or _key(eco, v) in listed_keys
            (out.positives if hit else out.negatives).add((group, eco, name, v))
        out.packages.setdefault((eco, name), set()).update(universe[(eco, name)])
    return out


def inventory_of(packages: dict[tuple[str, str], set[str]]) -> Inventory:
    pkgs = []
    for (eco, name), versions in sorted(packages.items()):
        ptype = PACKAGE_TYPE[eco]
        for v in sorted(versions):
            pkgs.append(Package(name=name, version=v, type=ptype, purl=f"pkg:{ptype}/{name}@{v}", found_by="gate",
                                locations=[Location(f"{eco}/{name}/{v}")]))
    return Inventory(source=SourceInfo(kind="dir", target="accuracy-gate"), os=None, packages=pkgs)


@dataclass
class Score:
    tp: int
    fp: int
    fn: int
    tn: int
    false_positives: set[Label]
    false_negatives: set[Label]
    undecided: list[tuple[str, str, str]]  # (advisory id, version, reason)

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def line(self, name: str) -> str:
        return (f"{name}: {self.tp + self.fn} positive / {self.fp + self.tn} negative labels; "
                f"precision {self.precision:.4%}, recall {self.recall:.4%} "
                f"(TP {self.tp}, FP {self.fp}, FN {self.fn}, TN {self.tn}, undecided {len(self.undecided)})")


def predicted(inv: Inventory, index: MemoryIndex) -> tuple[set[Label], list[tuple[str, str, str]]]:
    result = match_inventory(inv, index)
    by_id = {p.id: p for p in inv.packages}
    eco_of = {ptype: eco for eco, ptype in PACKAGE_TYPE.items()}
    out = set()
    for f in result.findings:
        assert f.package is not None
        vp = f.package.vulnerable_packages[0]
        pkg = by_id[vp.package_id]
        out.add((f.package.vulnerability_id, eco_of[pkg.type], pkg.name, pkg.version))
    return out, [(u.advisory_id or "", u.version, u.reason) for u in result.unmatched]


def score(labels: LabelSet, index: MemoryIndex, known_errors: dict[Label, str]) -> Score:
    """Match every labelled package version through the whole matcher and count agreements.

    Labels listed in ``known_errors`` (documented data errors) are left out of the counts.
    """
    got, undecided = predicted(inventory_of(labels.packages), index)
    pos = labels.positives - set(known_errors)
    neg = labels.negatives - set(known_errors)
    labelled_pairs = {(g, e, n) for g, e, n, _ in pos | neg}
    got = {lbl for lbl in got if lbl[:3] in labelled_pairs}
    return Score(tp=len(pos & got), fp=len(neg & got), fn=len(pos - got), tn=len(neg - got),
                 false_positives=neg & got, false_negatives=pos - got, undecided=undecided)


def iter_labels(labels: Iterable[Label]) -> Iterator[str]:
    for g, e, n, v in sorted(labels):
        yield f"{g} {e}/{n}@{v}"


def range_only_affected(advisories: Iterable[Advisory], index: MemoryIndex) -> Callable[[Label], str | None]:
    """For a false positive: the record whose own RANGES cover the version although its enumeration leaves it out
    (the enumeration is incomplete — a data error of the record, not of the matcher); None when no record does.

    For PyPI the check is independent of vulnhound's code: ``packaging`` orders the versions.
    """
    from packaging.version import InvalidVersion as PkgInvalid
    from packaging.version import Version as PkgVersion

    from vulnhound.matching.ranges import evaluate

    by_key: dict[tuple[str, str, str], list[tuple[Advisory, Any]]] = defaultdict(list)
    advisories = list(advisories)
    group_of = index.group_of(a.id for a in advisories)
    for a in advisories:
        for aff in a.affected:
            by_key[(group_of[a.id], aff.ecosystem, normalize_name(aff.ecosystem, aff.name))].append((a, aff))

    def pep440_in_ranges(aff: Any, v: str) -> bool:
        try:
            pv = PkgVersion(v)
            for rng in aff.ranges:
                if rng.type is RangeType.GIT:
                    continue
                lo: PkgVersion | None = None
                for ev in rng.events:
                    if ev.kind is EventKind.INTRODUCED:
                        lo = PkgVersion("0") if ev.version == "0" else PkgVersion(ev.version)
                    elif lo is not None and ev.kind is EventKind.FIXED:
                        if lo <= pv < PkgVersion(ev.version):
                            return True
                        lo = None
                    elif lo is not None and ev.kind is EventKind.LAST_AFFECTED:
                        if lo <= pv <= PkgVersion(ev.version):
                            return True
                        lo = None
                if lo is not None and pv >= lo:
                    return True
        except PkgInvalid:
            return False
        return False

    def explain(label: Label) -> str | None:
        group, eco, name, v = label
        for a, aff in by_key.get((group, eco, name), []):
            bare = dataclasses.replace(aff, versions=())
            covered = pep440_in_ranges(aff, v) if eco == "PyPI" else bool(evaluate(bare, v, eco).affected)
            if covered and v not in aff.versions:
                return f"{a.id}: {v} is inside the record's own ranges but missing from its enumerated versions"
        return None

    return explain
