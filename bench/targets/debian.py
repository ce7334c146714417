"""Build a real Debian 12 root filesystem with debootstrap (+ a few hundred packages) into the targets dir."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

# Chosen to land near the 315 packages of the Trivy reference rootfs (minbase gives ~90).
EXTRA_PACKAGES = (
    "ca-certificates", "curl", "wget", "openssl", "gnupg", "python3", "python3-venv", "perl", "git",
    "openssh-client", "libxml2", "libsqlite3-0", "vim-tiny", "less", "procps", "iproute2", "xz-utils", "bzip2",
    "unzip", "zip", "file", "jq", "sudo", "locales", "tzdata", "rsync", "make", "gcc", "libc6-dev", "python3-yaml",
    "python3-requests", "python3-jinja2", "python3-cryptography", "libssl-dev", "zlib1g-dev", "g++", "dpkg-dev",
    "python3-pip", "python3-dev", "libffi-dev", "sqlite3", "postgresql-client", "nginx-light", "libxslt1-dev",
    "libjpeg-dev", "libpng-dev", "libfreetype6-dev", "libreadline-dev", "libncurses-dev", "libbz2-dev",
    "liblzma-dev", "libyaml-dev", "libcurl4-openssl-dev", "libpq-dev", "autoconf", "automake", "libtool",
    "pkg-config", "cmake", "nodejs",
)


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


# The package the image's third layer purges (its files become whiteouts, its status entry disappears).
PURGED_PACKAGE = "rsync"
STAMP = ".vulnhound-built"


def build_rootfs(dest: Path, packages: tuple[str, ...] | list[str] = EXTRA_PACKAGES) -> Path:
    """debootstrap bookworm into ``dest`` (idempotent: a finished build leaves ``dest/.vulnhound-built``).

    Also keeps ``<dest>-base``: the minbase tree before the extra packages, the image's first layer."""
    stamp = dest / STAMP
    if stamp.exists():
        return dest
    tmp = dest.with_name(dest.name + ".partial")
    base = dest.with_name(dest.name + "-base")
    for old in (tmp, base):
        if old.exists():
            _umount(old / "proc")
            shutil.rmtree(old)
    _run(["debootstrap", "--variant=minbase", "--arch=amd64", "bookworm", str(tmp), mirror()],
         stdout=subprocess.DEVNULL)
    _run(["cp", "-a", str(tmp), str(base)])
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


def build_purged(rootfs: Path, dest: Path, package: str = PURGED_PACKAGE) -> Path:
    """A copy of ``rootfs`` with ``package`` purged by dpkg itself (the image's third layer)."""
    if (dest / STAMP).exists():
        return dest
    tmp = dest.with_name(dest.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    _run(["cp", "-a", str(rootfs), str(tmp)])
    (tmp / STAMP).unlink()
    _run(["chroot", str(tmp), "dpkg", "--purge", package], stdout=subprocess.DEVNULL)
    tmp.rename(dest)
    (dest / STAMP).write_text("ok\n")
    return dest


def build_distroless(rootfs: Path, dest: Path) -> Path:
    """A copy of ``rootfs``'s dpkg data in the distroless layout: ``var/lib/dpkg/status.d/<pkg>`` files and no
    ``status`` (only the files a scanner reads are copied: os-release and the dpkg database)."""
    if (dest / STAMP).exists():
        return dest
    if dest.exists():
        shutil.rmtree(dest)
    (dest / "etc").mkdir(parents=True)
    (dest / "usr/lib").mkdir(parents=True)
    shutil.copy(rootfs / "usr/lib/os-release", dest / "usr/lib/os-release")
    (dest / "etc/os-release").symlink_to("../usr/lib/os-release")
    shutil.copy(rootfs / "etc/debian_version", dest / "etc/debian_version")
    statusd = dest / "var/lib/dpkg/status.d"
    statusd.mkdir(parents=True)
    text = (rootfs / "var/lib/dpkg/status").read_text()
    for stanza in text.strip().split("\n\n"):
        name = next(line.split(":", 1)[1].strip() for line in stanza.splitlines() if line.startswith("Package:"))
        (statusd / name).write_text(stanza + "\n")
    (dest / STAMP).write_text("ok\n")
    return dest


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], stderr=subprocess.DEVNULL, check=False)


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".targets/debian-rootfs")
    out.parent.mkdir(parents=True, exist_ok=True)
    build_rootfs(out)
    build_purged(out, out.with_name(out.name + "-purged"))
    build_distroless(out, out.with_name(out.name + "-distroless"))
    n = subprocess.run(["dpkg-query", "--admindir", str(out / "var/lib/dpkg"), "-W"], capture_output=True,
                       text=True, check=True).stdout.count("\n")
    print(f"{out}: {n} packages")
