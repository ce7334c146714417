"""Matching benchmark: 10,000 real packages against the full shared corpus (warm knowledge base), and end-to-end
``vulnhound scan`` of the Debian rootfs and image beside the inventory-only ``vulnhound sbom`` time.

    .venv/bin/python -m bench.bench_match [--db PATH] [--packages 10000] [--runs 3] [--write]

Without --db a fresh knowledge base is built from ../shared/vulndata (about a minute). The inventory takes real
(ecosystem, name) pairs from the knowledge base and, per package, either a fixed version (the usual, up-to-date
case) or the lowest bound of an affected range (a vulnerable one), one in four. ``--write`` replaces the
"## Matching" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import re
import subprocess
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from vulnhound.advisories.store import open_kb
from vulnhound.advisories.store import tables as t
from vulnhound.advisories.store.codec import decode_affected
from vulnhound.inventory.model import Inventory, Location, Package, SourceInfo
from vulnhound.matching.index import StoreIndex
from vulnhound.matching.keys import LANGUAGE_ECOSYSTEMS
from vulnhound.matching.matcher import build_findings, find_matches

REPO = Path(__file__).resolve().parents[1]
TYPE_OF = {eco: ptype for ptype, eco in LANGUAGE_ECOSYSTEMS.items()}


def corpus_inventory(db: str, n: int, seed: int = 5) -> Inventory:
    kb = open_kb(db)
    a = t.affected
    with kb.engine.connect() as conn:
        rows = conn.execute(sa.select(a.c.ecosystem, a.c.name, a.c.data).where(
            a.c.ecosystem.in_(list(TYPE_OF)), a.c.withdrawn.is_(False))).all()
    rng = random.Random(seed)
    rng.shuffle(rows)
    pools = []
    for eco, name, data in rows:
        aff = decode_affected(data)
        lows = [e.version for r in aff.ranges if r.type.value != "GIT" for e in r.events
                if e.kind.value == "introduced" and e.version != "0"]
        # GIT ranges' events are commits, not versions a package is installed at
        fixed = [e.version for r in aff.ranges if r.type.value != "GIT" for e in r.events if e.kind.value == "fixed"]
        pools.append((eco, name, fixed, [*aff.versions, *lows]))
    seen: set[tuple[str, str, str]] = set()
    pkgs: list[Package] = []
    # The corpus names ~3,000 distinct language packages: a fleet holds the same package at several versions,
    # so the inventory takes several (version) picks per name until it has n packages.
    for _ in range(20):
        for eco, name, fixed, vulnerable in pools:
            pool = vulnerable if rng.random() < 0.25 else fixed
            if not pool:
                continue
            version = rng.choice(pool)
            if (eco, name, version) in seen:
                continue
            seen.add((eco, name, version))
            ptype = TYPE_OF[eco]
            pkgs.append(Package(name=name, version=version, type=ptype, purl=f"pkg:{ptype}/{name}@{version}",
                                found_by="bench", locations=[Location(f"bench/{ptype}/{name}/{version}")]))
            if len(pkgs) == n:
                return Inventory(source=SourceInfo(kind="dir", target="bench"), packages=pkgs)
    return Inventory(source=SourceInfo(kind="dir", target="bench"), packages=pkgs)
    return Inventory(source=SourceInfo(kind="dir", target="bench"), packages=pkgs)


def time_matching(db: str, inv: Inventory, runs: int) -> dict[str, float | int]:
    best: dict[str, float | int] = {}
    kb = open_kb(db)  # warm: one open knowledge base, as the service holds it
    for i in range(runs + 1):  # the first run warms the page cache and the parse caches; it is not counted
        index = StoreIndex(kb)
        t0, c0 = time.perf_counter(), time.process_time()
        result, matches = find_matches(inv, index)
        t1, c1 = time.perf_counter(), time.process_time()
        findings = build_findings(matches, index, "bench")
        t2, c2 = time.perf_counter(), time.process_time()
        if i == 0:
            continue
        sample = {"match_s": t1 - t0, "match_cpu_s": c1 - c0, "findings_s": t2 - t1, "findings_cpu_s": c2 - c1,
                  "packages": len(inv.packages), "candidates": result.stats["candidates"],
                  "matches": len(matches), "findings": len(findings), "unmatched": len(result.unmatched)}
        if not best or sample["match_s"] < best["match_s"]:
            best = sample
    return best


def _run(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def time_end_to_end(db: str, targets: list[str], runs: int) -> list[tuple[str, float, float]]:
    exe = str(REPO / ".venv" / "bin" / "vulnhound")
    env = {**os.environ, "VULNHOUND_DB": db}
    out = []
    with tempfile.TemporaryDirectory(prefix="bench-match-out-") as tmp:
        report = str(Path(tmp) / "report.json")  # a real file: never point --output at a device
        for target in targets:
            scan = min(_run([exe, "scan", target, "-q", "-f", "json", "-o", report], env) for _ in range(runs))
            inv = min(_run([exe, "sbom", target, "-q", "-f", "json", "-o", report], env) for _ in range(runs))
            out.append((target, inv, scan))
    return out


def markdown(m: dict[str, float | int], e2e: list[tuple[str, float, float]], runs: int) -> str:
    cpu = os.cpu_count()
    lines = [
        "## Matching",
        "",
        f"Measured {dt.date.today().isoformat()} with `python -m bench.bench_match` on {platform.machine()}, {cpu} "
        f"cores, Python {platform.python_version()}, SQLite knowledge base built from `../shared/vulndata` "
        f"(best of {runs} warm runs; the machine was shared with other jobs, so CPU time is the steadier figure).",
        "",
        "| step | wall s | CPU s |",
        "|---|---|---|",
        f"| prefilter + range checks, {m['packages']} packages ({m['candidates']} candidate entries, "
        f"{m['matches']} matches) | {m['match_s']:.2f} | {m['match_cpu_s']:.2f} |",
        f"| findings assembly ({m['findings']} findings: group records, severity, score, provenance) | "
        f"{m['findings_s']:.2f} | {m['findings_cpu_s']:.2f} |",
        "",
        "| target | inventory only (`sbom`) s | end-to-end `scan` s | matching share s |",
        "|---|---|---|---|",
    ]
    for target, inv, scan in e2e:
        lines.append(f"| `{target}` | {inv:.2f} | {scan:.2f} | {scan - inv:.2f} |")
    return "\n".join(lines) + "\n"


def write_section(text: str) -> None:
    path = REPO / "BENCHMARKS.md"
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(r"^## Matching\n.*?(?=^## |\Z)", re.S | re.M)
    new = pattern.sub(lambda _: text + "\n", old) if pattern.search(old) else old.rstrip("\n") + "\n\n" + text
    path.write_text(new, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", default=None, help="knowledge base (default: build one from ../shared/vulndata)")
    ap.add_argument("--packages", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--targets", default="dir:.targets/debian-rootfs,oci-archive:.targets/debian-image.oci.tar")
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="bench-match-")
    db = args.db
    if db is None:
        db = str(Path(tmp.name) / "kb.db")
        mirror = REPO.parent / "shared" / "vulndata"
        subprocess.run([str(REPO / ".venv/bin/vulnhound"), "db", "update", "--mirror", str(mirror), "--db", db],
                       check=True, stdout=subprocess.DEVNULL)
    inv = corpus_inventory(db, args.packages)
    m = time_matching(db, inv, args.runs)
    print(m)
    targets = [t for t in args.targets.split(",") if t and (REPO / t.split(":", 1)[1]).exists()]
    e2e = time_end_to_end(db, targets, args.runs)
    text = markdown(m, e2e, args.runs)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
