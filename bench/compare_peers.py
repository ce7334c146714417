"""Inventory side by side: vulnhound, Trivy and Syft against dpkg-query / pip list on the Debian targets.

    .venv/bin/python -m bench.compare_peers [--work DIR] [--targets rootfs,...] [--lang] [--write]

Lists every (type, name, version) difference of each tool against the oracle, sorted into explained classes;
``--write`` replaces the "## Inventory: vs dpkg-query" and "## Inventory: vs Trivy and Syft" sections of
ACCURACY.md. Tool outputs are kept in ``--work`` and reused when present (delete them to re-run a tool).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.oracles import canonical_pypi, distroless_admindir, dpkg_installed, pip_list_chroot
from bench.run_inventory import tool_commands, write_section
from bench.targets.build import REPO, debian_image, debian_targets
from bench.targets.image import LocalRegistry

Key = tuple[str, str, str]  # (type, name, version)
TOOLS = ("vulnhound", "trivy", "syft")


@dataclass
class Outcome:
    keys: Counter[Key] = field(default_factory=Counter)  # a Counter: a package reported twice shows as 2
    error: str | None = None


def read_output(path: Path) -> Outcome:
    doc = json.loads(path.read_text())
    out = Outcome()
    if "schemaVersion" in doc and "packages" in doc:  # vulnhound native JSON
        for p in doc["packages"]:
            out.keys[_key(p["type"], p["name"], p["version"])] += 1
        return out

    def walk(comps: list[dict[str, Any]]) -> None:
        for c in comps:
            purl = c.get("purl", "")
            if purl.startswith("pkg:"):
                out.keys[_key(purl[4:].split("/", 1)[0], c["name"], c.get("version", ""))] += 1
            walk(c.get("components", []))

    walk(doc.get("components", []))
    return out


def _key(typ: str, name: str, version: str) -> Key:
    return typ, canonical_pypi(name) if typ == "pypi" else name, version


def run_tool(tool: str, kind: str, ref: str, out: Path, work: Path) -> Outcome:
    if not out.exists():
        cmd, env = tool_commands(kind, ref, out, work / f"cache-{tool}-{out.stem}")[tool]
        p = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, **env}, check=False)
        if p.returncode != 0 or not out.exists():
            last = (p.stderr.strip().splitlines() or ["(no output)"])[-1]
            return Outcome(error=f"exit {p.returncode}: {last[-300:]}")
    return read_output(out)


def dpkg_owned_language(admindir: Path) -> set[tuple[str, str]]:
    """(type, name) of Python distributions and Node modules whose metadata a Debian package installed."""
    out: set[tuple[str, str]] = set()
    for lst in (admindir / "info").glob("*.list"):
        for line in lst.read_text(errors="replace").splitlines():
            if m := PY_META.match(line):
                out.add(("pypi", canonical_pypi(m.group(1))))
            elif m := NODE_META.match(line):
                out.add(("npm", m.group(1)))
    return out


PY_META = re.compile(r"^/usr/lib/python3/dist-packages/([^/]+?)(?:-[^-/]+)?\.(?:dist|egg)-info$")
NODE_META = re.compile(r"^/usr/share/nodejs/((?:@[^/]+/)?[^/@]+)/package\.json$")


def explain(tool: str, sign: str, key: Key, owned: set[tuple[str, str]]) -> str:
    """The class a difference belongs to; each class is explained (who is right, and why) in CLASSES."""
    typ, name, _ = key
    if typ == "pypi" and sign == "-" and tool == "trivy" and (typ, name) in owned:
        return "trivy-hides-os-owned"
    if typ == "npm" and sign == "+" and tool in ("syft", "vulnhound") and (typ, name) in owned:
        return "debian-node-modules"
    return "unexplained"


CLASSES = {
    "trivy-hides-os-owned": (
        "Trivy leaves out Python distributions whose files dpkg installed (`python3-yaml` → PyYAML ...): by design "
        "it reports only the Debian package, so Debian's backported fixes are not shadowed by upstream ranges. They "
        "are installed (pip list in the rootfs lists them), so vulnhound and Syft are right to report them; "
        "vulnhound marks each with `osOwnedBy` (the owning deb, from `info/*.list`) so the matcher uses the "
        "Debian advisories for them."),
    "debian-node-modules": (
        "25 npm packages from `/usr/share/nodejs/*/package.json`: Debian's `node-*` packages (node-acorn, "
        "node-undici, node-busboy, node-cjs-module-lexer, node-xtend, and modules shipped in `nodejs`). They are "
        "real, installed and resolvable (Debian's Node searches /usr/share/nodejs), but neither oracle lists npm "
        "packages, hence '+'. vulnhound reports them (marked `osOwnedBy` the deb, so Debian's advisories apply) on "
        "every target; Syft only on images (its directory scans do not run its installed-package.json cataloger); "
        "Trivy never (it hides dpkg-owned language packages). vulnhound is right; Syft's dir scans and Trivy miss "
        "them."),
    "duplicates": (
        "Syft reports cryptography twice: Debian's python3-cryptography ships both "
        "`cryptography-38.0.4.dist-info` and a stale `cryptography.egg-info`. Python sees one distribution (pip "
        "list / importlib.metadata list it once); vulnhound reports one package, as it should."),
    "unexplained": "Not yet explained.",
}


LANG_NOTES = """\
Oracles: `pip list --format json` in the venv, `npm ls --all --json` in the project (name@version, nested
duplicates included), and both for the function zip (built with `pip install --target` and `npm install`).
vulnhound equals every oracle. The peers' differences:

- **npm dev dependencies** (mocha 5.2.0 and its 9 dependencies): `trivy fs` and Syft leave out packages the lock
  file marks `dev: true`; `npm ls --all` lists them, and they are installed in `node_modules/`. vulnhound reports
  them with `dev: true` (marked, not dropped), so a CI gate can choose. Trivy fs and Syft are incomplete here.
- **the project itself** (`vulnhound-npm-oracle@1.0.0`, the function's `fn@1.0.0`): Trivy rootfs and Syft report
  the root `package.json` as a package. It is the application being scanned, not a dependency: `npm ls` prints it
  as the tree's root, and no advisory can name it. vulnhound and the oracles are right to leave it out.
- Trivy does not open zips; it was given the function extracted the way Lambda mounts it (`/var/task`, `/opt`).
"""

TOOL_FAILURES = {
    ("trivy", "oci-archive"): (
        "A Trivy limitation: `trivy image --input` reads a tar as a docker-archive (it wants `manifest.json`) or "
        "a directory as an OCI layout, but not an OCI archive tar (skopeo's `oci-archive:`); extracting it to a "
        "directory first works."),
}


@dataclass
class Target:
    name: str
    kind: str
    ref: str
    oracle: set[Key]
    desc: str


def targets(work: Path, wanted: list[str]) -> tuple[list[Target], LocalRegistry | None]:
    deb, img = debian_targets(), debian_image()
    pip = {("pypi", n, v) for n, v in pip_list_chroot(deb.rootfs)}
    pip_purged = {("pypi", n, v) for n, v in pip_list_chroot(deb.purged)}

    def debs(admindir: Path) -> set[Key]:
        return {("deb", n, v) for n, v, *_ in dpkg_installed(admindir)}

    statusd = deb.distroless / "var/lib/dpkg/status.d"
    image_oracle = debs(deb.purged / "var/lib/dpkg") | pip_purged
    out = [
        Target("rootfs", "dir", str(deb.rootfs), debs(deb.rootfs / "var/lib/dpkg") | pip,
               "debootstrap'ed Debian 12 rootfs; oracle: dpkg-query + pip list (chroot)"),
        Target("distroless", "dir", str(deb.distroless), debs(distroless_admindir(statusd, work / "admin")),
               "status.d/ layout, dpkg data only; oracle: dpkg-query over the concatenated stanzas"),
        Target("oci-dir", "oci-dir", str(img.layout), image_oracle, "3-layer image; oracle: the purged rootfs"),
        Target("oci-archive", "oci-archive", str(img.oci_archive), image_oracle, "same image, OCI archive"),
        Target("docker-archive", "docker-archive", str(img.docker_archive), image_oracle, "same image, docker save"),
    ]
    reg = None
    if "registry" in wanted:
        reg = LocalRegistry(work / "registry").start()
        out.append(Target("registry", "registry", reg.push(img.layout, img.tag, "vulnhound/debian"), image_oracle,
                          "same image pulled from a local registry"))
    return [t for t in out if t.name in wanted], reg


def compare(t: Target, results: dict[str, Outcome], owned: set[tuple[str, str]]) -> list[str]:
    lines = [f"### {t.name}: {t.desc}", "", f"Oracle: {_counts(Counter(t.oracle))}.", ""]
    for tool, res in results.items():
        if res.error:
            why = TOOL_FAILURES.get((tool, t.kind), "")
            err = res.error.replace(str(REPO), "<repo>")  # no machine paths in the committed note
            lines.append(f"- **{tool}**: failed: `{err}`" + (f" {why}" if why else ""))
            continue
        found = set(res.keys)
        scope = {k for k in found if k[0] in ("deb", "pypi")}  # what the oracles can speak for
        missing, extra = sorted(t.oracle - scope), sorted(scope - t.oracle)
        dups = sorted(k for k, n in res.keys.items() if n > 1)
        other = sorted(found - scope)
        lines.append(f"- **{tool}**: {_counts(res.keys)}; missing {len(missing)}, extra {len(extra)}, "
                     f"reported twice {len(dups)}" + (f", other types {len(other)}" if other else ""))
        classes: dict[str, list[str]] = {}
        for sign, keys in (("-", missing), ("+", extra)):
            for k in keys:
                classes.setdefault(explain(tool, sign, k, owned), []).append(f"{sign}{k[0]}/{k[1]}@{k[2]}")
        if dups:
            classes.setdefault("duplicates", []).extend(f"2×{k[0]}/{k[1]}@{k[2]}" for k in dups)
        for k in other:
            classes.setdefault(explain(tool, "+", k, owned), []).append(f"+{k[0]}/{k[1]}@{k[2]}")
        for cls, items in classes.items():
            lines.append(f"  - [{cls}] {', '.join(items)}")
    return [*lines, ""]


def oracle_rows(t: Target, ours: Outcome) -> str:
    if ours.error:
        return f"| {t.name} | {len(t.oracle)} | failed: {ours.error} |"
    debs = {k for k in t.oracle if k[0] == "deb"}
    got = {k for k in ours.keys if k[0] == "deb"}
    verdict = "equal" if debs == got else f"missing {len(debs - got)}, extra {len(got - debs)}"
    return f"| {t.name} | {len(debs)} | {len(got)} | {verdict} |"


def _counts(keys: Counter[Key]) -> str:
    by_type = Counter(k[0] for k in keys.elements())
    return f"{sum(by_type.values())} packages (" + ", ".join(f"{n} {t}" for t, n in sorted(by_type.items())) + ")"


def lang_report() -> str:
    p = subprocess.run([sys.executable, str(REPO / "bench/compare_lang.py")], capture_output=True, text=True,
                       check=False, cwd=REPO)
    return p.stdout.strip() or f"compare_lang failed: {p.stderr[-500:]}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, default=None, help="keep tool outputs here (reused when present)")
    ap.add_argument("--targets", default="rootfs,distroless,oci-dir,oci-archive,docker-archive")
    ap.add_argument("--lang", action="store_true", help="also run bench/compare_lang.py (venv, npm, function)")
    ap.add_argument("--lang-report", type=Path, default=None, help="use this saved compare_lang output instead")
    ap.add_argument("--write", action="store_true", help="replace the Inventory sections of ACCURACY.md")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="vh-peers-"))
    work.mkdir(parents=True, exist_ok=True)
    tlist, reg = targets(work, args.targets.split(","))
    owned = dpkg_owned_language(debian_targets().rootfs / "var/lib/dpkg")
    body: list[str] = []
    dpkg_rows = ["| target | dpkg-query (installed) | vulnhound debs | (name, version) sets |", "|---|---|---|---|"]
    try:
        for t in tlist:
            results = {tool: run_tool(tool, t.kind, t.ref, work / f"{tool}-{t.name}.json", work) for tool in TOOLS}
            dpkg_rows.append(oracle_rows(t, results["vulnhound"]))
            section = compare(t, results, owned)
            print("\n".join(section), flush=True)
            body += section
    finally:
        if reg:
            reg.stop()
    print("\n".join(dpkg_rows))
    report = "\n".join(body)
    if args.lang or args.lang_report:
        lang = args.lang_report.read_text().strip() if args.lang_report else lang_report()
        print(lang)
        report += "\n### Language targets (bench/compare_lang.py)\n\n```\n" + lang + "\n```\n\n" + LANG_NOTES
    if args.write:
        path = REPO / "ACCURACY.md"
        if not path.exists():
            path.write_text("# Accuracy\n")
        write_section(path, "## Inventory: vs dpkg-query", DPKG_INTRO + "\n".join(dpkg_rows) + "\n")
        write_section(path, "## Inventory: vs Trivy and Syft", PEERS_INTRO + classes_text() + "\n" + report)


def classes_text() -> str:
    return "\n".join(f"- **{name}**: {text}" for name, text in CLASSES.items() if name != "unexplained") + "\n"


DPKG_INTRO = """\
Generated by `.venv/bin/python -m bench.compare_peers --write` (the same assertions run in `tests/e2e`). Oracle:
`dpkg-query --admindir ROOT/var/lib/dpkg -W` with `${binary:Package} ${Version} ${Architecture} ${source:Package}
${source:Version} ${db:Status-Abbrev}`, installed (`ii`) rows only. `${binary:Package}` prints Multi-Arch: same
packages arch-qualified (`libc6:amd64`, 158 of 309 here): the package name is the part before the colon and the
qualifier is always the package's own arch (asserted). The e2e tests compare the full tuple (name, version, arch,
source name, source version); the table compares (name, version). For distroless, dpkg-query reads an admindir whose
`status` is the concatenation of `status.d/*`. The image formats must equal the purged rootfs (layer 3 purges
rsync), with each package attributed to the layer that introduced it (asserted in `tests/e2e/test_debian_image.py`).

"""

PEERS_INTRO = """\
Generated by `.venv/bin/python -m bench.compare_peers --lang --write`: vulnhound, Trivy 0.76 and Syft 1.18 on the
same targets; every (type, name, version) a tool reports that the oracle does not (+), or misses (-), sorted into
the classes below. The oracles (dpkg-query, and pip list run by the rootfs's own Python in a chroot) speak for deb
and pypi; any other type a tool reports is listed as extra and classified too. The images are compared with the
purged rootfs (what they squash to). Difference classes (who is right, and why):

"""


if __name__ == "__main__":
    main()
