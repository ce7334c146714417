"""What the system's own tools say is installed: dpkg-query over a dpkg admindir, pip list run inside a rootfs."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

FIELDS = ("binary:Package", "Version", "Architecture", "source:Package", "source:Version", "db:Status-Abbrev",
          "Multi-Arch")
Row = tuple[str, str, str, str, str]  # name, version, arch, source name, source version


def dpkg_query(admindir: Path) -> list[list[str]]:
    """``dpkg-query -W`` rows, fields as ``FIELDS`` names them (installed or not)."""
    fmt = "\t".join(f"${{{f}}}" for f in FIELDS) + "\n"
    out = subprocess.run(["dpkg-query", "--admindir", str(admindir), "-W", "-f", fmt], capture_output=True,
                         text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def dpkg_installed(admindir: Path) -> set[Row]:
    """Installed packages ("ii") as dpkg-query prints them, with ``${binary:Package}``'s arch qualifier removed.

    dpkg qualifies Multi-Arch: same packages with their arch ("libc6:amd64"): its unambiguous name; the package
    name is the part before it, and the qualifier is always the package's own arch (checked)."""
    out: set[Row] = set()
    for binary, version, arch, src, src_version, status, multi_arch in dpkg_query(admindir):
        if status.strip() != "ii":  # "rc" (removed, config kept) and half-installed states are not installed
            continue
        name, _, qualifier = binary.partition(":")
        if (qualifier == arch) != (multi_arch == "same"):
            raise ValueError(f"unexpected dpkg-query name {binary!r} (arch {arch}, Multi-Arch {multi_arch!r})")
        out.add((name, version, arch, src, src_version))
    return out


def distroless_admindir(statusd: Path, dest: Path) -> Path:
    """An admindir dpkg-query can read, made of a distroless ``status.d/`` (it cannot read status.d itself)."""
    stanzas = [f.read_text().strip() for f in sorted(statusd.iterdir()) if not f.name.endswith(".md5sums")]
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "status").write_text("\n\n".join(stanzas) + "\n")
    (dest / "updates").mkdir(exist_ok=True)
    return dest


def canonical_pypi(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()  # PEP 503


def pip_list_chroot(root: Path) -> set[tuple[str, str]]:
    """``pip list`` run by the rootfs's own Python inside a chroot (needs root): what its interpreter sees."""
    out = subprocess.run(["chroot", str(root), "python3", "-m", "pip", "list", "--format", "json",
                          "--disable-pip-version-check"], capture_output=True, text=True, check=True).stdout
    return {(canonical_pypi(d["name"]), d["version"]) for d in json.loads(out)}


def installed_rows_to_keys(rows: set[Row]) -> set[tuple[str, str, str]]:
    return {("deb", name, version) for name, version, *_ in rows}
