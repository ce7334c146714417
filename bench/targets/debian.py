"""Build a real Debian 12 root filesystem with debootstrap (+ a few hundred packages) into the targets dir."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

# Chosen to land near the 315 packages of the Trivy reference rootfs (minbase gives ~90).
EXTRA_PACKAGES = (
    "ca-certificates curl wget openssl gnupg python3 python3-venv perl git openssh-client libxml2 libsqlite3-0 "
    "vim-tiny less procps iproute2 xz-utils bzip2 unzip zip file jq sudo locales tzdata rsync make gcc libc6-dev "
    "python3-yaml python3-requests python3-jinja2 python3-cryptography libssl-dev zlib1g-dev g++ dpkg-dev python3-pip "
    "python3-dev libffi-dev sqlite3 postgresql-client nginx-light libxslt1-dev libjpeg-dev libpng-dev libfreetype6-dev "
    "libreadline-dev libncurses-dev libbz2-dev liblzma-dev libyaml-dev libcurl4-openssl-dev libpq-dev autoconf automake "
    "libtool pkg-config cmake nodejs"
).split()


def mirror() -> str:
    src = Path("/etc/apt/sources.list.d/debian.sources")
    if src.exists():
        for line in src.read_text().splitlines():
            if line.startswith("URIs:"):
                return line.split()[1]
    return "http://deb.debian.org/debian"


def _run(cmd: list[str], **kw: object) -> None:
    print("+", " ".join(cmd), file=sys.stderr, flush=True)
    subprocess.run(cmd, check=True, **kw)  # type: ignore[call-overload]


def build_rootfs(dest: Path, packages: tuple[str, ...] | list[str] = EXTRA_PACKAGES) -> Path:
    """debootstrap bookworm into ``dest`` (idempotent: a finished build leaves ``dest/.vulnhound-built``)."""
    stamp = dest / ".vulnhound-built"
    if stamp.exists():
        return dest
    tmp = dest.with_name(dest.name + ".partial")
    if tmp.exists():
        _umount(tmp / "proc")
        shutil.rmtree(tmp)
    _run(["debootstrap", "--variant=minbase", "--arch=amd64", "bookworm", str(tmp), mirror()],
         stdout=subprocess.DEVNULL)
    policy = tmp / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    shutil.copy("/etc/resolv.conf", tmp / "etc/resolv.conf")
    _run(["mount", "-t", "proc", "proc", str(tmp / "proc")])
    try:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        _run(["chroot", str(tmp), "apt-get", "update", "-qq"], env=env)
        _run(["chroot", str(tmp), "apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
             env=env, stdout=subprocess.DEVNULL)
        _run(["chroot", str(tmp), "apt-get", "clean"], env=env)
    finally:
        _umount(tmp / "proc")
    policy.unlink()
    (tmp / "var/lib/apt/lists").mkdir(exist_ok=True)
    for f in (tmp / "var/lib/apt/lists").glob("*_Packages"):
        f.unlink()
    tmp.rename(dest)
    stamp.write_text("ok\n")
    return dest


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], stderr=subprocess.DEVNULL, check=False)


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".targets/debian-rootfs")
    out.parent.mkdir(parents=True, exist_ok=True)
    build_rootfs(out)
    n = subprocess.run(["dpkg-query", "--admindir", str(out / "var/lib/dpkg"), "-W"], capture_output=True,
                       text=True, check=True).stdout.count("\n")
    print(f"{out}: {n} packages")
