"""Inventory engine profile: CPU (user+sys) and wall of ``vulnhound sbom`` per target, best and median of N runs,
with the engine's own split (walk+routing, each cataloger) from the JSON output's stats.

    .venv/bin/python -m bench.profile_inventory [--runs 5] [--src OTHER_CHECKOUT/src] [TARGET ...]

``--src`` runs another checkout's package (e.g. an exported older commit) with this venv, for before/after.
Byte-compiled files are written under a private cache prefix so that neither run pays for compiling.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_TARGETS = ["dir:.targets/debian-rootfs", "dir:EMPTY"]
# The console entry point (vulnhound.__main__, with its sbom fast path); older checkouts (--src) lack it.
CODE = ("import sys; sys.argv[0] = 'vulnhound'\n"
        "try:\n    from vulnhound.__main__ import run\nexcept ImportError:\n    from vulnhound.cli.main import run\n"
        "sys.exit(run())")


def once(target: str, out: Path, env: dict[str, str]) -> tuple[float, float, dict[str, object]]:
    """(wall seconds, CPU seconds of the child, stats of the inventory)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", CODE, "sbom", target, "-q", "-f", "json", "-o", str(out)],
                   cwd=REPO, env=env, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    stats: dict[str, object] = json.loads(out.read_text()).get("stats", {})
    return wall, cpu, stats


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--src", help="the src/ directory of another checkout to run instead of this one")
    ap.add_argument("targets", nargs="*", default=DEFAULT_TARGETS)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vh-profile-"))
    (work / "empty").mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(work / "pyc")
    if args.src:
        env["PYTHONPATH"] = str(Path(args.src).resolve())
    print(f"load average {os.getloadavg()[0]:.1f}; {args.runs} runs after one warm-up")
    print("| target | CPU best | CPU median | wall best | wall median | packages | engine split (last run) |")
    print("|---|---|---|---|---|---|---|")
    for target in args.targets:
        real = target.replace("EMPTY", str(work / "empty"))
        out = work / "out.json"
        once(real, out, env)  # compiles into the cache prefix, warms the page cache
        runs = [once(real, out, env) for _ in range(args.runs)]
        stats = runs[-1][2]
        split: dict[str, object] = {"list": stats.get("list_seconds")}
        per_cataloger = stats.get("seconds_by_cataloger")
        if isinstance(per_cataloger, dict):  # older checkouts (--src) do not time their catalogers
            split.update(per_cataloger)
        walls, cpus = [r[0] for r in runs], [r[1] for r in runs]
        print(f"| {target} | {min(cpus):.2f} s | {statistics.median(cpus):.2f} s | {min(walls):.2f} s | "
              f"{statistics.median(walls):.2f} s | {stats.get('packages')} | "
              f"{', '.join(f'{k} {v}' for k, v in split.items() if v)} |")


if __name__ == "__main__":
    main()
