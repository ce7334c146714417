"""Zip archives and function packages (``zip:app.zip``, ``function:app.zip --layer L.zip``), read in place.

Members are read straight out of the archive with ``zipfile``; nothing is extracted to disk. ``zip:`` shows the
archive's own paths. ``function:`` lays the archive out the way Lambda mounts it: function code under
``var/task/``, layer zips merged in order under ``opt/`` (a later layer's file replaces an earlier one's), so
package locations read ``var/task/requests-2.20.0.dist-info/METADATA`` or ``opt/python/...``.

Hostile archives: member names that are absolute or climb with ``..`` are never exposed (counted in the source
info as ``unsafe_names``); symlink members (unix mode in ``external_attr``) resolve only inside the view; an
archive whose declared sizes add up past ``max_total`` or whose members compress better than ``max_ratio``
(a zip bomb) is refused with ``SourceError`` before anything is read.
"""

from __future__ import annotations

import io
import stat
import zipfile
import zlib
from collections.abc import Iterator
from typing import IO, Any, BinaryIO

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
from vulnhound.sources.mapped import BackgroundDigests

MAX_TOTAL = 4 << 30  # declared uncompressed bytes over all members (Lambda itself allows 250 MB unzipped)
MAX_RATIO = 200  # uncompressed/compressed for one member; text compresses ~10x, bombs ~1000x
RATIO_MIN_SIZE = 1 << 20  # small members may compress absurdly well (runs of zeros) without harm
MAX_MEMBERS = 500_000
MAX_LINK_SIZE = 4096


class _Member:
    # a plain slotted class: one is made per member, and a frozen dataclass's __init__ is several times slower
    __slots__ = ("archive", "info", "link")

    def __init__(self, archive: int, info: zipfile.ZipInfo, link: bool) -> None:
        self.archive = archive
        self.info = info
        self.link = link


class _CheckedMember(io.RawIOBase):
    """A member stream whose corruption (bad CRC, broken deflate data, truncation) surfaces as OSError, the
    error every reader of a view already handles, instead of zipfile's and zlib's own exception types."""

    def __init__(self, member: IO[bytes], path: str) -> None:
        self._member = member
        self._path = path

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        try:
            data = self._member.read(len(buffer))
        except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
            raise OSError(f"{self._path}: corrupt zip member: {exc}") from None
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self._member.close()
        super().close()


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def _unsafe(name: str) -> bool:
    """Absolute, drive-letter or climbing names: extracting them would write outside the target directory."""
    n = name.replace("\\", "/")
    if n.startswith("/") or (len(n) > 1 and n[1] == ":"):
        return True
    if ".." not in n:
        return False  # the common case, decided without splitting
    depth = 0
    for part in n.split("/"):
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in ("", "."):
            depth += 1
    return False


class ZipView(FileView):
    """A read-only view over one or more open zip archives, each mounted at a prefix."""

    def __init__(self, archives: list[tuple[zipfile.ZipFile, str]]) -> None:
        self._archives = [zf for zf, _ in archives]
        self._members: dict[str, _Member] = {}
        self._dirs: set[str] = {""}
        self.unsafe_names: list[str] = []
        # One pass per member of function zips with thousands of files: the common case is tested inline.
        members, dirs = self._members, self._dirs
        for index, (zf, prefix) in enumerate(archives):
            base = f"{prefix}/" if prefix else ""
            for info in zf.infolist():
                name = info.filename
                if ("\\" in name or ".." in name or name[:1] == "/" or name[1:2] == ":") and _unsafe(name):
                    self.unsafe_names.append(name)
                    continue
                path = normalize(base + name)
                if not path:
                    continue
                if path.rpartition("/")[0] not in dirs:
                    self._add_parents(path)
                if name.endswith("/"):  # ZipInfo.is_dir(), without the call
                    dirs.add(path)
                    continue
                members[path] = _Member(index, info, info.create_system == 3 and _is_symlink(info))

    def _add_parents(self, path: str) -> None:
        # Climb only until a known directory: its ancestors are known too.
        parent = path.rpartition("/")[0]
        while parent and parent not in self._dirs:
            self._dirs.add(parent)
            parent = parent.rpartition("/")[0]

    def _link_target(self, m: _Member) -> str:
        with self._archives[m.archive].open(m.info) as fh:
            return fh.read(MAX_LINK_SIZE).decode("utf-8", errors="replace")

    def _meta(self, path: str, m: _Member) -> FileMeta:
        mode = stat.S_IMODE(m.info.external_attr >> 16) if m.info.create_system == 3 else 0o644
        if m.link:
            return FileMeta(path, m.info.file_size, "symlink", link_target=self._link_target(m), mode=mode)
        return FileMeta(path, m.info.file_size, "file", mode=mode or 0o644)

    def iter_files(self) -> Iterator[FileMeta]:
        for path, m in self._members.items():
            yield self._meta(path, m)

    def iter_paths(self) -> Iterator[str]:
        """The paths of ``iter_files`` without building their metadata (the engine asks ``meta`` for wanted
        files only)."""
        return iter(list(self._members))

    def meta(self, path: str) -> FileMeta | None:
        p = normalize(path)
        m = self._members.get(p)
        if m is not None:
            return self._meta(p, m)
        return FileMeta(p, 0, "dir", mode=0o755) if p in self._dirs else None

    def resolve(self, path: str) -> str:
        """Resolve symlinks component by component; an absolute or climbing target stays inside the root."""
        return resolve_links(path, self._probe)

    def _probe(self, path: str) -> tuple[str, str | None] | None:
        m = self._members.get(path)
        if m is not None and m.link:
            return "symlink", self._link_target(m)
        # A hostile archive may hold both "a" and "a/b": the directory reading wins, as a walk would see it.
        if path in self._dirs:
            return "dir", None
        return None if m is None else ("file", None)

    def open(self, path: str) -> BinaryIO:
        real = self.resolve(path)
        m = self._members.get(real)
        if m is None:
            raise FileNotFoundError(path)
        try:
            member = self._archives[m.archive].open(m.info)
        except (RuntimeError, NotImplementedError, zipfile.BadZipFile) as exc:  # encrypted, unknown method
            raise ViewError(f"{path}: {exc}") from None
        return io.BufferedReader(_CheckedMember(member, path))

    def listdir(self, path: str) -> list[str]:
        try:
            prefix = self.resolve(path)
        except (FileNotFoundError, ViewError):
            return []
        prefix = prefix + "/" if prefix else ""
        names = {p[len(prefix):].split("/", 1)[0] for p in (*self._members, *self._dirs)
                 if p.startswith(prefix) and p != prefix.rstrip("/")}
        names.discard("")
        return sorted(names)


def check_bounds(zf: zipfile.ZipFile, name: str, max_total: int, max_ratio: float) -> None:
    """Refuse zip bombs from the central directory alone, before reading any member."""
    infos = zf.infolist()
    if len(infos) > MAX_MEMBERS:
        raise SourceError(f"{name}: {len(infos)} members is over the {MAX_MEMBERS} limit; refusing the archive")
    total = 0
    for info in infos:
        total += info.file_size
        if total > max_total:
            raise SourceError(f"{name}: members add up to more than {max_total} bytes uncompressed; "
                              "refusing a possible zip bomb")
        if info.file_size > RATIO_MIN_SIZE and info.file_size > max_ratio * max(info.compress_size, 1):
            raise SourceError(f"{name}: member {info.filename!r} expands {info.file_size} bytes from "
                              f"{info.compress_size} (over {max_ratio:g}x); refusing a possible zip bomb")


class ZipSource(Source):
    """``zip:FILE`` (paths as in the archive) or ``function:FILE`` (Lambda layout, with layers and runtime)."""

    def __init__(self, path: str, kind: str = "zip", layers: list[str] | None = None, runtime: str | None = None,
                 max_total: int = MAX_TOTAL, max_ratio: float = MAX_RATIO) -> None:
        if kind not in ("zip", "function"):
            raise ValueError(kind)
        self.kind = kind
        self.path = path
        self.layers = list(layers or [])
        if self.layers and kind != "function":
            raise SourceError(f"{path}: --layer applies to function: targets only")
        self.runtime = runtime
        self._files: list[zipfile.ZipFile] = []
        self._info = SourceInfo(kind=kind, target=path)
        try:
            for archive in [path, *self.layers]:
                zf = zipfile.ZipFile(archive)
                self._files.append(zf)
                check_bounds(zf, archive, max_total, max_ratio)
        except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile) as exc:
            self.close()
            raise SourceError(f"{exc}: not a readable zip archive (give a .zip file)") from None
        except SourceError:
            self.close()
            raise
        total = sum(i.file_size for zf in self._files for i in zf.infolist())
        if total > max_total:
            self.close()
            raise SourceError(f"{path}: function and layers add up to {total} bytes uncompressed, over {max_total}")
        # The archives' digests are computed on a thread while the scan goes on (hashlib releases the GIL);
        # info() waits for them.
        self._digests = BackgroundDigests([path, *self.layers])
        meta = self._info.metadata
        if runtime:
            meta["runtime"] = runtime
        if kind == "function":
            meta["layout"] = {"code": "var/task", "layers": "opt"}
            meta["layers"] = []  # filled by info(); the key holds its place in the metadata's order

    def info(self) -> SourceInfo:
        if self._info.digest is None:
            digests = self._digests.result()
            self._info.digest = digests[0]
            if self.kind == "function":
                self._info.metadata["layers"] = [{"path": p, "digest": d}
                                                 for p, d in zip(self.layers, digests[1:], strict=True)]
        return self._info

    def open_view(self, wants: PathFilter) -> FileView:
        if self.kind == "zip":
            mounts = [(self._files[0], "")]
        else:
            # Mounted in order, so a later layer's file replaces an earlier layer's at the same path (as Lambda).
            mounts = [(zf, "opt") for zf in self._files[1:]] + [(self._files[0], "var/task")]
        view = ZipView(mounts)
        if view.unsafe_names:
            self._info.metadata["unsafe_names"] = view.unsafe_names[:100]
        return view

    def close(self) -> None:
        for zf in self._files:
            zf.close()
        self._files = []
