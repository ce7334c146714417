"""Compare vulnhound's Python/npm inventory with Trivy and Syft (and pip/npm oracles) on the cached targets.

Usage: python bench/compare_lang.py [TARGETS_DIR]  (default: <repo>/.targets, built by the slow tests of
tests/catalogers/python, tests/catalogers/npm and tests/sources/zip). Prints counts and every difference.
``python bench/compare_lang.py --cases`` compares the lock-file test cases instead (Trivy fs, Syft dir).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from packaging.utils import canonicalize_name

from vulnhound.inventory.build import build_inventory
from vulnhound.sources.resolve import SourceOptions, open_source

REPO = Path(__file__).resolve().parents[1]
TRIVY = os.environ.get("TRIVY", "/opt/peers/trivy/bin/trivy")
SYFT = os.environ.get("SYFT", "/opt/peers/syft/bin/syft")
TRIVY_FLAGS = ["--skip-db-update", "--skip-java-db-update", "--offline-scan", "--skip-version-check",
               "--disable-telemetry", "--no-progress", "--format", "cyclonedx"]

Key = tuple[str, str, str]  # (type, name, version)


def _cn(name: str) -> str:
    return str(canonicalize_name(name))


def _key(purl: str) -> Key | None:
    if not purl.startswith(("pkg:pypi/", "pkg:npm/")):
        return None
    typ, _, rest = purl[4:].partition("/")
    rest = unquote(rest.split("?", 1)[0].split("#", 1)[0])
    name, _, version = rest.rpartition("@")
    return typ, _cn(name) if typ == "pypi" else name, version


def _cdx_set(path: Path) -> set[Key]:
    doc = json.loads(path.read_text())
    out: set[Key] = set()

    def walk(comps: list[dict[str, Any]]) -> None:
        for c in comps:
            k = _key(c.get("purl", ""))
            if k:
                out.add(k)
            walk(c.get("components", []))

    walk(doc.get("components", []))
    return out


def trivy(mode: str, target: Path, tmp: Path) -> tuple[set[Key], float]:
    out = tmp / f"trivy-{mode}.json"
    t = time.perf_counter()
    subprocess.run([TRIVY, mode, str(target), "--cache-dir", str(tmp / "trivy-cache"), *TRIVY_FLAGS, "--output",
                    str(out)], check=True, capture_output=True, timeout=600)
    return _cdx_set(out), time.perf_counter() - t


def syft(target: str, tmp: Path) -> tuple[set[Key], float]:
    out = tmp / "syft.json"
    t = time.perf_counter()
    subprocess.run([SYFT, "scan", target, "-q", "-o", f"cyclonedx-json={out}"], check=True, capture_output=True,
                   timeout=600, env={**os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"})
    return _cdx_set(out), time.perf_counter() - t


def ours(target: str, opts: SourceOptions | None = None) -> tuple[set[Key], float]:
    t = time.perf_counter()
    with open_source(target, opts) as src:
        inv = build_inventory(src)
    return {(p.type, p.name, p.version) for p in inv.packages if p.type in ("pypi", "npm")}, time.perf_counter() - t


def report(name: str, results: dict[str, tuple[set[Key], float]], oracle: set[Key]) -> None:
    print(f"\n== {name}: oracle {len(oracle)} packages")
    for tool, (found, secs) in results.items():
        missing, extra = sorted(oracle - found), sorted(found - oracle)
        print(f"  {tool:14} {len(found):4} found  {secs:6.2f} s  missing {len(missing):3}  extra {len(extra):3}")
        for k in missing:
            print(f"      - {'/'.join(k)}")
        for k in extra:
            print(f"      + {'/'.join(k)}")


def compare_cases(tmp: Path) -> None:
    """Every lock-file case folder of the cataloger tests: what each tool finds that another does not."""
    from vulnhound.sources.directory import DirSource

    for base in ("tests/catalogers/npm/cases", "tests/catalogers/python/cases"):
        for case in sorted((REPO / base).iterdir()):
            if not (case / "input").is_dir():
                continue
            with DirSource(str(case / "input")) as src:
                found = {(p.type, p.name, p.version) for p in build_inventory(src).packages
                         if p.type in ("pypi", "npm")}
            tr, _ = trivy("fs", case / "input", tmp)
            sy, _ = syft(f"dir:{case / 'input'}", tmp)
            print(f"{base.split('/')[2]}/{case.name}: vulnhound {len(found)} trivy {len(tr)} syft {len(sy)}")
            for tool, other in (("trivy", tr), ("syft", sy)):
                for k in sorted(other - found):
                    print(f"    {tool} only: {'/'.join(k)}")
                for k in sorted(found - other):
                    print(f"    not in {tool}: {'/'.join(k)}")


def main() -> None:
    if sys.argv[1:] == ["--cases"]:
        with tempfile.TemporaryDirectory() as tmpdir:
            compare_cases(Path(tmpdir))
        return
    targets = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / ".targets"
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for venv in sorted(targets.glob("py-old-venv-*[!.json][!.txt]")):
            if not venv.is_dir():
                continue
            listed = json.loads(Path(f"{venv}.pip-list.json").read_text())
            oracle = {("pypi", _cn(d["name"]), d["version"]) for d in listed}
            report(f"venv {venv.name}", {"vulnhound": ours(f"dir:{venv}"), "trivy rootfs": trivy("rootfs", venv, tmp),
                                         "syft": syft(f"dir:{venv}", tmp)}, oracle)
        for project in sorted(p for p in targets.glob("npm-old-*") if p.is_dir()):
            listed = json.loads(Path(f"{project}.npm-ls.json").read_text())
            oracle = {("npm", n, v) for n, v in listed}
            report(f"npm {project.name}", {"vulnhound": ours(f"dir:{project}"), "trivy fs": trivy("fs", project, tmp),
                                           "trivy rootfs": trivy("rootfs", project, tmp),
                                           "syft": syft(f"dir:{project}", tmp)}, oracle)
        for fn in sorted(p for p in targets.glob("fn-*") if (p / "oracle.json").is_file()):
            data = json.loads((fn / "oracle.json").read_text())
            oracle = {("pypi", _cn(n), v) for n, v in data["pypi"]} | {("npm", n, v)
                                                                                     for n, v in data["npm"]}
            # Trivy does not open zips: it scans the extracted function and layer (what Lambda mounts).
            mount = tmp / "lambda"
            with zipfile.ZipFile(fn / "app.zip") as zf:
                zf.extractall(mount / "var" / "task")
            with zipfile.ZipFile(fn / "layer.zip") as zf:
                zf.extractall(mount / "opt")
            syft_app, t1 = syft(f"file:{fn / 'app.zip'}", tmp)
            syft_layer, t2 = syft(f"file:{fn / 'layer.zip'}", tmp)
            report(f"function {fn.name}", {
                "vulnhound": ours(f"function:{fn / 'app.zip'}", SourceOptions(layers=[str(fn / "layer.zip")])),
                "trivy rootfs": trivy("rootfs", mount, tmp), "syft (zips)": (syft_app | syft_layer, t1 + t2)}, oracle)


if __name__ == "__main__":
    main()
