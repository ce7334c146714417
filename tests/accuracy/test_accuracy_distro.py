"""Accuracy on distro data: every fix in the Alpine secdb, the AlmaLinux OSV records (a sample) and the Debian tracker
samples, matched through OS packages named the way the distro's data requires.

Labels from each record's fixes: the fixed version itself is NOT affected; the release just below it (apk ``-rN-1``)
or the lowest version of the scheme (rpm ``[E:]0-0``, dpkg ``0~``) IS. Alpine packages are named after a binary
that differs from the origin, Debian ones likewise from the source, so origin/source keys are what must match.
"""

from __future__ import annotations

import re
import zlib
from collections import defaultdict
from pathlib import Path

import pytest

from vulnhound.advisories.feeds.alpine_secdb import AlpineSecdbFeed
from vulnhound.advisories.feeds.debian_tracker import DebianTrackerFeed, distro_releases
from vulnhound.advisories.feeds.osv import iter_files
from vulnhound.advisories.model import Advisory, ParsedItem
from vulnhound.inventory.model import Inventory, Location, OSInfo, Package, SourceInfo
from vulnhound.matching.index import MemoryIndex
from vulnhound.matching.matcher import match_inventory
from vulnhound.matching.versions.registry import parse, scheme_for

_APK_REL = re.compile(r"^(.*)-r(\d+)$")
Label = tuple[str, str, str, str]  # (group, ecosystem, source/origin/binary name, version)


def _os_for(eco: str) -> OSInfo:
    distro, rel = eco.split(":", 1)
    if distro == "Alpine":
        return OSInfo(id="alpine", version_id=f"{rel[1:]}.0")
    if distro == "AlmaLinux":
        return OSInfo(id="almalinux", version_id=f"{rel}.0")
    if not rel.isdigit():
        return OSInfo(id="debian", version_codename="sid")  # sid's os-release has a codename, no VERSION_ID
    return OSInfo(id="debian", version_id=rel)


def _below(eco: str, fixed: str) -> str | None:
    if eco.startswith("Alpine:"):
        m = _APK_REL.match(fixed)
        return f"{m.group(1)}-r{int(m.group(2)) - 1}" if m and int(m.group(2)) > 0 else None
    if eco.startswith("AlmaLinux:"):
        epoch = fixed.split(":", 1)[0] + ":" if ":" in fixed else ""
        return f"{epoch}0-0"
    return "0~"


def _gate(advisories: list[Advisory], ptype: str, keep_every: int = 1) -> tuple[int, int]:
    index = MemoryIndex(advisories, releases=distro_releases())
    group_of = index.group_of(a.id for a in advisories)
    fixes: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for a in advisories:
        for aff in a.affected:
            if zlib.crc32(f"{aff.ecosystem}/{aff.name}".encode()) % keep_every:
                continue
            fixes[(group_of[a.id], aff.ecosystem, aff.name)].update(f for f in aff.fixed_versions() if f != "0")
    pos: set[Label] = set()
    neg: set[Label] = set()
    for (group, eco, name), fixed in fixes.items():
        if not fixed:
            continue
        scheme = scheme_for(eco).scheme
        # One vulnerability fixed at several releases of a package (module streams, re-fixes): only the highest
        # fix is out of every range; just below any fix is inside that record's range.
        neg.add((group, eco, name, max(fixed, key=lambda v: parse(scheme, v))))
        pos.update((group, eco, name, b) for f in fixed if (b := _below(eco, f)) is not None)
    neg -= pos
    by_eco: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for _, eco, name, v in pos | neg:
        by_eco[eco].add((name, v))
    got: set[Label] = set()
    for eco, pkgs in sorted(by_eco.items()):
        packages = []
        for name, v in sorted(pkgs):
            # a binary named unlike its source/origin: only the source key can find the advisory (not for rpm)
            binary = name if ptype == "rpm" else f"{name}-bin"
            packages.append(Package(name=binary, version=v, type=ptype, purl=f"pkg:{ptype}/{binary}@{v}",
                                    found_by="gate", locations=[Location(f"{name}/{v}")], source_name=name,
                                    source_version=v if ptype == "deb" else None))
        inv = Inventory(source=SourceInfo(kind="dir", target=eco), os=_os_for(eco), packages=packages)
        result = match_inventory(inv, index)
        by_id = {p.id: p for p in packages}
        for f in result.findings:
            if f.package is None:
                continue
            p = by_id[f.package.vulnerable_packages[0].package_id]
            got.add((f.package.vulnerability_id, eco, p.source_name or p.name, p.version))
    tp, fp, fn = len(pos & got), len(neg & got), len(pos - got)
    tn = len(neg) - fp
    print(f"\n{ptype}: {len(pos)} positive / {len(neg)} negative labels; precision "
          f"{tp / max(1, tp + fp):.4%}, recall {tp / max(1, tp + fn):.4%} (TP {tp}, FP {fp}, FN {fn}, TN {tn})")
    assert not (neg & got), sorted(neg & got)[:10]
    assert not (pos - got), sorted(pos - got)[:10]
    return len(pos), len(neg)


def _advisories(items: list[ParsedItem]) -> list[Advisory]:
    return [i for i in items if isinstance(i, Advisory)]


def test_alpine_secdb(vulndata: Path) -> None:
    advisories = _advisories(list(AlpineSecdbFeed().parse(vulndata / "alpine-secdb-legacy")))
    npos, nneg = _gate(advisories, "apk", keep_every=2)
    assert npos > 1000 and nneg > 4000


def test_almalinux_sample(vulndata: Path) -> None:
    root = vulndata / "almalinux-osv" / "advisories"
    files = sorted(root.rglob("*.json"))[::10]
    advisories = _advisories(list(iter_files(files, root, "almalinux-osv")))
    npos, nneg = _gate(advisories, "rpm", keep_every=5)
    assert npos > 500 and nneg > 500


@pytest.mark.parametrize("sample", [
    "format-samples/vunnel/tests/unit/providers/debian/test-fixtures/input/debian.json",
    "format-samples/vuln-list-update/debian/tracker/testdata/happy",
])
def test_debian_tracker_samples(vulndata: Path, sample: str) -> None:
    advisories = _advisories(list(DebianTrackerFeed().parse(vulndata / sample)))
    npos, nneg = _gate(advisories, "deb")
    assert npos >= 3 and nneg >= 3
