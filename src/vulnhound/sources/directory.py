"""Directory sources: a mounted root filesystem or snapshot (``dir:``) and the live host (``host:``).

Symlinks are resolved component by component inside the root, so a link to ``/etc/x`` inside a mounted
snapshot means ``ROOT/etc/x``, never the scanning machine's file.
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from typing import BinaryIO

from vulnhound.inventory.model import SourceInfo
from vulnhound.sources.interface import (
    FileMeta,
    FileView,
    PathFilter,
    Source,
    SourceError,
    ViewError,
    normalize,
    resolve_links,
)

# Pseudo and volatile filesystems never hold installed packages; walking them is slow or hangs.
HOST_SKIP = frozenset({"proc", "sys", "dev", "run", "tmp", "var/tmp", "var/cache", "var/lib/docker",
                       "var/lib/containerd", "var/lib/containers", "snap", "mnt", "media", "lost+found"})
PSEUDO_FS = frozenset({"proc", "sysfs", "devtmpfs", "devpts", "cgroup", "cgroup2", "securityfs", "debugfs",
                       "tracefs", "pstore", "bpf", "configfs", "fusectl", "mqueue", "hugetlbfs", "autofs",
                       "binfmt_misc", "efivarfs", "rpc_pipefs", "nsfs", "overlay", "fuse.lxcfs", "squashfs"})


class DirView(FileView):
    """A read-only view over a directory tree on this machine."""

    def __init__(self, root: str, skip: frozenset[str] = frozenset()) -> None:
        self.root = os.path.abspath(root)
        self.skip = skip

    def _host(self, rel: str) -> str:
        return os.path.join(self.root, rel) if rel else self.root

    def iter_files(self) -> Iterator[FileMeta]:
        for rel, entry in self._walk():
            try:
                if entry.is_symlink():
                    target = os.readlink(entry.path)
                    yield FileMeta(rel, len(target), "symlink", link_target=target)
                elif entry.is_file(follow_symlinks=False):
                    st = entry.stat(follow_symlinks=False)
                    yield FileMeta(rel, st.st_size, "file", mode=stat.S_IMODE(st.st_mode))
            except OSError:
                continue

    def iter_paths(self) -> Iterator[str]:
        """The paths of ``iter_files`` without their metadata: the file type comes free with the directory
        listing, while a size costs a stat() per file; the inventory engine asks ``meta`` for wanted files only."""
        for rel, entry in self._walk():
            try:
                if entry.is_symlink() or entry.is_file(follow_symlinks=False):
                    yield rel
            except OSError:
                continue

    def _walk(self) -> Iterator[tuple[str, os.DirEntry[str]]]:
        """(relative path, entry) of every non-directory below the root, skipped subtrees left out."""
        stack = [""]
        while stack:
            rel_dir = stack.pop()
            try:
                it = os.scandir(self._host(rel_dir))
            except OSError:
                continue
            prefix = f"{rel_dir}/" if rel_dir else ""
            with it:
                for entry in it:
                    rel = prefix + entry.name
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            if rel not in self.skip:
                                stack.append(rel)
                            continue
                    except OSError:
                        continue
                    yield rel, entry

    def meta(self, path: str) -> FileMeta | None:
        rel = normalize(path)
        try:
            st = os.lstat(self._host(rel))
        except OSError:
            return None
        if stat.S_ISLNK(st.st_mode):
            target = os.readlink(self._host(rel))
            return FileMeta(rel, len(target), "symlink", link_target=target)
        kind = "dir" if stat.S_ISDIR(st.st_mode) else "file"
        return FileMeta(rel, st.st_size, kind, mode=stat.S_IMODE(st.st_mode))

    def resolve(self, path: str) -> str:
        """Resolve every symlink in ``path`` inside the root; returns the real relative path."""
        return resolve_links(path, self._probe)

    def _probe(self, rel: str) -> tuple[str, str | None] | None:
        try:
            st = os.lstat(self._host(rel))
            if stat.S_ISLNK(st.st_mode):
                return "symlink", os.readlink(self._host(rel))
        except OSError:
            return None
        return ("dir" if stat.S_ISDIR(st.st_mode) else "file"), None

    def open(self, path: str) -> BinaryIO:
        real = self.resolve(path)
        host = self._host(real)
        if not os.path.isfile(host):
            raise FileNotFoundError(path)
        # O_NOFOLLOW: the resolved path has no symlinks left; refuse one swapped in meanwhile.
        fd = os.open(host, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        return os.fdopen(fd, "rb")

    def listdir(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(self._host(self.resolve(path))))
        except (OSError, ViewError):
            return []

    @contextlib.contextmanager
    def local_path(self, path: str) -> Iterator[str]:
        yield self._host(self.resolve(path))


class DirSource(Source):
    """``dir:PATH`` — a root filesystem on disk; ``host:`` — this machine's ``/``."""

    def __init__(self, path: str, kind: str = "dir") -> None:
        self.kind = kind
        self.path = path
        if not os.path.isdir(path):
            raise SourceError(f"{path}: not a directory (give a root filesystem path, e.g. dir:/mnt/snap)")

    def info(self) -> SourceInfo:
        return SourceInfo(kind=self.kind, target=self.path)

    def open_view(self, wants: PathFilter) -> FileView:
        is_host = self.kind == "host" or os.path.abspath(self.path) == "/"
        skip = HOST_SKIP | pseudo_mounts(self.path) if is_host else frozenset()
        return DirView(self.path, skip=skip)


def pseudo_mounts(root: str, mounts_file: str = "/proc/self/mounts") -> frozenset[str]:
    """Mount points under ``root`` whose filesystem is virtual (proc, sysfs, cgroup, …) or another image's
    (overlay, squashfs snaps): walking them is slow, can hang, and finds nothing installed on this host."""
    base = os.path.abspath(root)
    out: set[str] = set()
    try:
        with open(mounts_file, encoding="utf-8", errors="replace") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return frozenset()
    for line in lines:
        fields = line.split()
        if len(fields) < 3 or fields[2] not in PSEUDO_FS:
            continue
        point = fields[1].replace("\\040", " ")
        rel = os.path.relpath(point, base)
        if rel != "." and not rel.startswith(".."):
            out.add(rel.replace(os.sep, "/"))
    return frozenset(out)
