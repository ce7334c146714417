"""Load a matcher case directory: real advisory records (parsed by the feeds' own parsers) and a small inventory."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import yaml

from vulnhound.advisories.feeds.alpine_secdb import AlpineSecdbFeed
from vulnhound.advisories.feeds.debian_tracker import DebianTrackerFeed, distro_releases
from vulnhound.advisories.feeds.osv import iter_files
from vulnhound.advisories.model import Advisory, ParsedItem
from vulnhound.inventory.model import Inventory, Location, OSInfo, Package, SourceInfo
from vulnhound.matching.index import MemoryIndex
from vulnhound.matching.matcher import MatchResult, match_inventory

CASES = Path(__file__).parent / "cases"


def records(case: Path) -> list[Advisory]:
    items: list[ParsedItem] = []
    root = case / "records"
    if (root / "osv").is_dir():
        files = sorted((root / "osv").iterdir())
        items += iter_files(files, root / "osv", "osv-test")
    if (root / "debian").is_dir():
        snap = root / "debian"
        items += DebianTrackerFeed().parse(snap if (snap / "data").is_dir() else snap / "tracker.json")
    if (root / "alpine").is_dir():
        items += AlpineSecdbFeed().parse(root / "alpine")
    return [i for i in items if isinstance(i, Advisory)]


def spec(case: Path) -> dict[str, Any]:
    data = yaml.safe_load((case / "case.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def inventory(s: dict[str, Any]) -> Inventory:
    os = OSInfo(**s["os"]) if s.get("os") else None
    pkgs = []
    for p in s.get("packages", []):
        p = dict(p)
        ptype = p.pop("type")
        loc = p.pop("path", f"{ptype}/{p['name']}")
        pkgs.append(Package(type=ptype, purl=p.pop("purl", f"pkg:{ptype}/{p['name']}@{p['version']}"),
                            found_by="case", locations=[Location(loc)], **p))
    return Inventory(source=SourceInfo(kind="dir", target="case"), os=os, packages=pkgs)


def run(case: Path) -> tuple[MatchResult, Inventory]:
    s = spec(case)
    inv = inventory(s)
    index = MemoryIndex(records(case), releases=distro_releases())
    today = s.get("today")
    when = today if isinstance(today, dt.date) else None
    return match_inventory(inv, index, resource_id="case", today=when), inv


def summary(result: MatchResult, inv: Inventory) -> dict[str, Any]:
    """The facts a case pins down, in the shape of case.yaml's ``expect``."""
    by_id = {p.id: p for p in inv.packages}
    findings = []
    for f in result.findings:
        if f.package is None:
            findings.append({"id": f.details["checkId"], "type": f.type.value, "severity": f.severity.value})
            continue
        vp = f.package.vulnerable_packages[0]
        findings.append({"id": f.package.vulnerability_id, "package": by_id[vp.package_id].name,
                         "version": vp.version, "fixed": vp.fixed_in_version, "fix": f.fix_available.value,
                         "status": f.package.vendor_status, "aliases": sorted(f.package.aliases)})
    return {"findings": sorted(findings, key=lambda x: (x["id"], x.get("package", ""), x.get("version", ""))),
            "unmatched": sorted(f"{u.name} {u.version}: {u.reason}" for u in result.unmatched),
            "warnings": sorted(result.warnings)}
