"""Language-target benchmark: an old venv, an npm project and a function zip — vulnhound, Trivy, Syft, same run.

    .venv/bin/python -m bench.run_lang [--runs 3] [--syft-runs 1] [--write]

The targets are the ones the slow oracle tests build into ``.targets/`` (``py-old-venv-*``, ``npm-old-*``,
``fn-*/app.zip`` + ``layer.zip``); run ``pytest -m slow tests/catalogers tests/sources/zip`` once to build them.
Trivy and Syft do not open Lambda zips, so they get the function extracted the way Lambda mounts it
(``var/task`` + ``opt``); vulnhound reads the zips in place. ``--write`` replaces "## Language inventory" in
BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import zipfile
from pathlib import Path

from bench.run_inventory import SYFT, TRIVY, TRIVY_FLAGS, VULNHOUND, Run, machine, timed, write_section
from bench.targets.build import REPO, targets_dir


def _one(pattern: str) -> Path:
    found = sorted(p for p in targets_dir().glob(pattern) if p.is_dir())
    if not found:
        sys.exit(f"no {pattern} in {targets_dir()}: build it with `pytest -m slow tests/catalogers tests/sources/zip`")
    return found[-1]


def _extract_function(fn: Path, dest: Path) -> Path:
    with zipfile.ZipFile(fn / "app.zip") as z:
        z.extractall(dest / "var/task")
    with zipfile.ZipFile(fn / "layer.zip") as z:
        z.extractall(dest / "opt")
    return dest


def commands(work: Path) -> dict[str, tuple[str, dict[str, list[str]]]]:
    venv, npm, fn = _one("py-old-venv-*"), _one("npm-old-*"), _one("fn-*")
    extracted = _extract_function(fn, work / "function")

    def cmds(vh: list[str], trivy: list[str], syft: str) -> dict[str, list[str]]:
        return {"vulnhound": [VULNHOUND, "sbom", *vh, "--format", "json", "--quiet"],
                "trivy": [TRIVY, *trivy, *TRIVY_FLAGS],
                "syft": [SYFT, "scan", syft, "-q"]}

    return {
        "venv": (f"old venv ({venv.name})", cmds([f"dir:{venv}"], ["rootfs", str(venv)], f"dir:{venv}")),
        "npm": (f"npm project ({npm.name})", cmds([f"dir:{npm}"], ["fs", str(npm)], f"dir:{npm}")),
        "function": ("function zip + layer zip", cmds(
            [f"function:{fn / 'app.zip'}", "--layer", str(fn / "layer.zip"), "--runtime", "python3.12"],
            ["rootfs", str(extracted)], f"dir:{extracted}")),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--syft-runs", type=int, default=1)
    ap.add_argument("--write", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="vh-lang-"))
    load_before = os.getloadavg()[0]
    rows = []
    try:
        for name, (desc, by_tool) in commands(work).items():
            row: dict[str, object] = {"target": name, "desc": desc}
            full: dict[str, list[str]] = {}
            out: dict[str, Path] = {}
            for tool, cmd in by_tool.items():
                out[tool] = work / f"{tool}-{name}.json"
                cache = work / f"cache-{tool}-{name}"
                c = [*cmd, "--cache-dir", str(cache)] if tool == "trivy" else cmd
                dest = ["--output", str(out[tool])] if tool != "syft" else ["-o", f"cyclonedx-json={out[tool]}"]
                full[tool] = [*c, *dest]
            runs: dict[str, list[Run]] = {tool: [] for tool in full}
            failed: set[str] = set()
            wanted = {tool: args.syft_runs if tool == "syft" else args.runs for tool in full}
            # Warm-up, then run i of every tool back to back: on a shared machine each tool sees the same drift.
            for i in range(-1, max(wanted.values())):
                for tool in full:
                    if tool in failed or i >= wanted[tool] or wanted[tool] == 0:  # --syft-runs 0: no Syft
                        continue
                    try:
                        run = timed(full[tool], out[tool])
                    except RuntimeError as exc:
                        print(f"{tool} on {name}: {exc}", file=sys.stderr)
                        failed.add(tool)
                        continue
                    finally:
                        shutil.rmtree(work / f"cache-{tool}-{name}", ignore_errors=True)
                    if i >= 0:
                        runs[tool].append(run)
            for tool, got in runs.items():
                if got and tool not in failed:
                    row[tool] = (statistics.median(r.seconds for r in got), statistics.median(r.rss_mb for r in got),
                                 got[-1].packages)
                print(name, tool, row.get(tool), [f"{r.seconds:.2f}" for r in got], file=sys.stderr, flush=True)
            rows.append(row)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = [
        f"Machine: {machine()}. Median of {args.runs} runs (Syft {args.syft_runs}) after a warm-up, the tools "
        "interleaved run by run; load average "
        f"{load_before:.1f} → {os.getloadavg()[0]:.1f}. Trivy 0.76 and Syft 1.18 with a fresh cache dir per run; "
        "wall time and peak RSS from `/usr/bin/time`; package counts are components (vulnhound: packages, incl. "
        "npm dev dependencies, which Trivy fs and Syft drop — see ACCURACY.md). Reproduce: "
        "`.venv/bin/python -m bench.run_lang --write`.",
        "",
        "| target | vulnhound s / RSS MB / pkgs | trivy s / RSS MB / pkgs | syft s / RSS MB / pkgs |",
        "|---|---|---|---|",
    ]
    for r in rows:
        cells = []
        for t in ("vulnhound", "trivy", "syft"):
            v = r.get(t)
            cells.append("failed" if not isinstance(v, tuple) else "{:.2f} / {:.0f} / {}".format(*v))
        lines.append(f"| {r['target']}: {r['desc']} | " + " | ".join(cells) + " |")
    table = "\n".join(lines) + "\n"
    print(table)
    if args.write:
        write_section(REPO / "BENCHMARKS.md", "## Language inventory", table)


if __name__ == "__main__":
    main()
