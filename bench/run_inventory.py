"""Inventory benchmark: vulnhound beside Trivy and Syft on the same targets, same run (wall time, peak RSS).

    .venv/bin/python -m bench.run_inventory [--runs 3] [--tools vulnhound,trivy,syft] [--targets rootfs,...]

Prints a Markdown table; ``--write`` replaces the "## Inventory" section of BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.targets.build import REPO, debian_image, debian_targets
from bench.targets.image import LocalRegistry

TRIVY = os.environ.get("TRIVY", "/opt/peers/trivy/bin/trivy")
SYFT = os.environ.get("SYFT", "/opt/peers/syft/bin/syft")
VULNHOUND = str(REPO / ".venv/bin/vulnhound")
TRIVY_FLAGS = ["--skip-db-update", "--skip-java-db-update", "--offline-scan", "--skip-version-check",
               "--disable-telemetry", "--no-progress", "--format", "cyclonedx"]


@dataclass
class Run:
    seconds: float
    rss_mb: float
    packages: int | None


def timed(cmd: list[str], out: Path, env: dict[str, str] | None = None) -> Run:
    full = ["/usr/bin/time", "-f", "__TIME__ %e %M", *cmd]
    # As installed for a user: byte-compiled modules are cached (this environment sets PYTHONDONTWRITEBYTECODE,
    # which would make every run recompile the CLI's modules); a private prefix keeps the repo clean.
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    base.setdefault("PYTHONPYCACHEPREFIX", os.path.join(tempfile.gettempdir(), "vulnhound-bench-pyc"))
    p = subprocess.run(full, capture_output=True, text=True, env={**base, **(env or {})}, check=False)
    m = re.search(r"__TIME__ ([\d.]+) (\d+)", p.stderr)
    if p.returncode != 0 or not m:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {p.stderr[-800:]}")
    return Run(float(m.group(1)), int(m.group(2)) / 1024, count_components(out))


def count_components(path: Path) -> int | None:
    try:
        doc = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if "packages" in doc and "schemaVersion" in doc:  # vulnhound native
        return len(doc["packages"])
    comps = doc.get("components", [])
    return sum(1 for c in comps if c.get("type") != "operating-system")


def tool_commands(kind: str, ref: str, out: Path, cache: Path) -> dict[str, tuple[list[str], dict[str, str]]]:
    trivy_sub = {"dir": ["rootfs", ref], "oci-dir": ["image", "--input", ref],
                 "oci-archive": ["image", "--input", ref], "docker-archive": ["image", "--input", ref],
                 "registry": ["image", "--insecure", ref]}[kind]
    syft_ref = f"{kind}:{ref}" if kind != "registry" else f"registry:{ref}"
    return {
        "vulnhound": ([VULNHOUND, "sbom", f"{kind}:{ref}", "--format", "json", "--output", str(out), "--quiet",
                       *(["--insecure"] if kind == "registry" else [])], {}),
        "trivy": ([TRIVY, *trivy_sub, "--cache-dir", str(cache), *TRIVY_FLAGS, "--output", str(out)],
                  {"TRIVY_INSECURE": "true"} if kind == "registry" else {}),
        "syft": ([SYFT, "scan", syft_ref, "-q", "-o", f"cyclonedx-json={out}"],
                 {"SYFT_CHECK_FOR_APP_UPDATE": "false", "SYFT_REGISTRY_INSECURE_USE_HTTP": "true"}),
    }


def measure(kind: str, ref: str, name: str, tools: list[str], work: Path, n: int,
            syft_runs: int | None) -> dict[str, list[Run]]:
    """Warm runs of every tool on one target, interleaved run by run (on a shared machine the load drifts, and
    each tool should see the same drift); a tool that fails is left out."""
    runs: dict[str, list[Run]] = {tool: [] for tool in tools}
    failed: set[str] = set()

    def wanted(tool: str) -> int:
        return syft_runs if tool == "syft" and syft_runs is not None else n

    def once(tool: str, i: int) -> None:
        if tool in failed:
            return
        # A fresh cache dir per run: Trivy would otherwise reuse its analysed layers and skip the work.
        cache = work / f"cache-{tool}-{name}-{i}"
        out = work / f"{tool}-{name}.json"
        cmd, env = tool_commands(kind, ref, out, cache)[tool]
        try:
            run = timed(cmd, out, env)
            if i >= 0:
                runs[tool].append(run)
        except RuntimeError as exc:
            failed.add(tool)
            print(f"{tool} on {name}: {exc}", file=sys.stderr)
        finally:
            shutil.rmtree(cache, ignore_errors=True)

    for tool in tools:
        if wanted(tool) > 1:
            once(tool, -1)  # warm-up: page cache (a single run follows the other tools' warm runs)
    for i in range(max(wanted(t) for t in tools)):
        for tool in tools:
            if i < wanted(tool):
                once(tool, i)
    return {tool: got for tool, got in runs.items() if tool not in failed}


def machine() -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem = int(Path("/proc/meminfo").read_text().split()[1]) // (1024 * 1024)
    except OSError:
        mem = 0
    return f"{os.cpu_count()} cores ({cpu}), {mem} GiB RAM, {platform.system()} {platform.release()}, " \
           f"Python {platform.python_version()}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--syft-runs", type=int, default=None, help="runs for Syft (default: --runs); it is 10x slower")
    ap.add_argument("--tools", default="vulnhound,trivy,syft")
    ap.add_argument("--targets", default="rootfs,oci-dir,oci-archive,docker-archive,registry")
    ap.add_argument("--write", action="store_true", help="replace the Inventory section of BENCHMARKS.md")
    args = ap.parse_args()
    tools = args.tools.split(",")
    deb = debian_targets()
    img = debian_image()
    load_before = os.getloadavg()[0]
    work = Path(tempfile.mkdtemp(prefix="vh-bench-"))
    # The registry (Debian's docker-registry) only when its row is asked for.
    reg = LocalRegistry(work / "registry").start() if "registry" in args.targets.split(",") else None
    try:
        reg_ref = reg.push(img.layout, img.tag, "vulnhound/debian") if reg is not None else ""
        targets: dict[str, tuple[str, str, str]] = {
            "rootfs": ("dir", str(deb.rootfs), f"Debian 12 rootfs, {_pkgs(deb.rootfs)} packages"),
            "oci-dir": ("oci-dir", f"{img.layout}", f"3-layer OCI layout, {_du(img.layout)} gzip layers"),
            "oci-archive": ("oci-archive", str(img.oci_archive), f"OCI archive, {_du(img.oci_archive)}"),
            "docker-archive": ("docker-archive", str(img.docker_archive),
                               f"docker-archive, {_du(img.docker_archive)} uncompressed"),
            "registry": ("registry", reg_ref, "local registry (distribution), gzip layers over HTTP"),
        }
        rows = []
        for name in args.targets.split(","):
            kind, ref, desc = targets[name]
            row: dict[str, object] = {"target": name, "desc": desc}
            runs = measure(kind, ref, name, tools, work, args.runs, args.syft_runs)
            for tool in tools:
                got = runs.get(tool, [])
                if got:
                    row[tool] = (statistics.median(r.seconds for r in got), statistics.median(r.rss_mb for r in got),
                                 got[-1].packages)
                print(name, tool, row.get(tool), [f"{r.seconds:.2f}" for r in got], file=sys.stderr, flush=True)
            rows.append(row)
    finally:
        if reg is not None:
            reg.stop()
        shutil.rmtree(work, ignore_errors=True)
    table = render(rows, tools, args.runs, args.syft_runs, load_before)
    print(table)
    if args.write:
        write_section(REPO / "BENCHMARKS.md", "## Inventory", table)


def render(rows: list[dict[str, object]], tools: list[str], runs: int, syft_runs: int | None = None,
           load_before: float | None = None) -> str:
    syft_note = f" (Syft: {syft_runs} run{'s' if syft_runs != 1 else ''})" if syft_runs not in (None, runs) else ""
    load = "" if load_before is None else (
        f" Load average (1 min) at start {load_before:.1f}, at end {os.getloadavg()[0]:.1f}: other jobs shared the "
        "2 cores, so absolute times are noisy; the tools of one row ran interleaved, run by run.")
    head = "| target | " + " | ".join(f"{t} s / RSS MB / pkgs" for t in tools) + " |"
    lines = [
        f"Machine: {machine()}. Date: {dt.date.today().isoformat()}. Median of {runs} warm runs{syft_note} "
        "(after one warm-up; every run starts with an empty Trivy cache dir, so Trivy analyses every layer as "
        "vulnhound does); wall time and peak RSS from `/usr/bin/time`; package counts exclude the OS "
        "component. Trivy 0.76 and Syft 1.18 (see ../shared/targets.md). Reproduce: "
        f"`.venv/bin/python -m bench.run_inventory --write`.{load}",
        "",
        head,
        "|" + "---|" * (len(tools) + 1),
    ]
    for r in rows:
        cells = []
        for t in tools:
            v = r.get(t)
            cells.append(f"{v[0]:.2f} / {v[1]:.0f} / {v[2]}" if isinstance(v, tuple) else "failed")
        lines.append(f"| {r['target']}: {r['desc']} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_section(path: Path, heading: str, body: str) -> None:
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    section = f"{heading}\n\n{body}\n"
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section
    path.write_text(text)


def _pkgs(root: Path) -> int:
    out = subprocess.run(["dpkg-query", "--admindir", str(root / "var/lib/dpkg"), "-W"], capture_output=True,
                         text=True, check=True).stdout
    return out.count("\n")


def _du(path: Path) -> str:
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else path.stat().st_size
    return f"{size / 1e6:.0f} MB"


if __name__ == "__main__":
    main()
