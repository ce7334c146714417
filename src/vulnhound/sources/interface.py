"""The plug-in axis for sources: a read-only filesystem view that catalogers read, whatever holds the bytes.

Paths are POSIX strings relative to the view's root with no leading slash ("etc/os-release"). A view never
exposes anything outside its root: symlinks resolve inside the root (an absolute target is taken as relative
to the root), ".." never climbs above it, and loops raise ``ViewError``.
"""

from __future__ import annotations

import contextlib
import io
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import BinaryIO

from vulnhound.inventory.model import SourceInfo


class ViewError(Exception):
    """A path that cannot be read from a view (outside the root, a symlink loop, not captured, ...)."""


class SourceError(Exception):
    """A source that cannot be opened: names the target and says what to do."""


# A cheap predicate over a path: catalogers say which files they want with one of these.
PathFilter = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class FileMeta:
    """What a view knows about one path without reading it."""

    path: str
    size: int
    kind: str  # "file", "symlink", "dir", "hardlink"
    link_target: str | None = None
    mode: int = 0o644
    layer: str | None = None  # diff ID of the layer that last wrote this path (images only)


class FileView(ABC):
    """Read-only view of a root filesystem."""

    @abstractmethod
    def iter_files(self) -> Iterator[FileMeta]:
        """Every non-directory path in the view (regular files and symlinks), in no particular order."""

    @abstractmethod
    def meta(self, path: str) -> FileMeta | None:
        """Metadata of ``path`` itself (symlinks not followed), or None when absent."""

    @abstractmethod
    def open(self, path: str) -> BinaryIO:
        """Open ``path`` for reading, following symlinks inside the root. Raises FileNotFoundError."""

    def read_bytes(self, path: str, max_size: int | None = None) -> bytes:
        """Read a whole file; with ``max_size`` raise ViewError instead of reading more than that."""
        with self.open(path) as fh:
            if max_size is None:
                return fh.read()
            data = fh.read(max_size + 1)
        if len(data) > max_size:
            raise ViewError(f"{path}: larger than {max_size} bytes")
        return data

    def read_text(self, path: str, max_size: int | None = None) -> str:
        return self.read_bytes(path, max_size).decode("utf-8", errors="replace")

    def exists(self, path: str) -> bool:
        try:
            self.resolve(path)
        except (FileNotFoundError, ViewError):
            return False
        return True

    def resolve(self, path: str) -> str:
        """The path with every symlink in it resolved inside the root. Raises FileNotFoundError/ViewError."""
        return normalize(path) if self.meta(normalize(path)) is not None else _raise_missing(path)

    def listdir(self, path: str) -> list[str]:
        """Names directly under directory ``path`` (default: derived from iter_files; views may do better)."""
        prefix = normalize(path)
        prefix = prefix + "/" if prefix else ""
        names: set[str] = set()
        for m in self.iter_files():
            if m.path.startswith(prefix):
                names.add(m.path[len(prefix) :].split("/", 1)[0])
        return sorted(names)

    @contextlib.contextmanager
    def local_path(self, path: str) -> Iterator[str]:
        """A real filesystem path holding the file's bytes (for readers such as sqlite3 that need one).

        Directory views yield the file itself; other views spool it to a private temporary file.
        """
        import os
        import tempfile

        fd, tmp = tempfile.mkstemp(prefix="vulnhound-")
        try:
            with os.fdopen(fd, "wb") as out, self.open(path) as src:
                while chunk := src.read(1 << 20):
                    out.write(chunk)
            yield tmp
        finally:
            os.unlink(tmp)

    def layer_of(self, path: str) -> str | None:
        m = self.meta(normalize(path))
        return m.layer if m else None

    # Layered views (images) override these three; flat views have no history.
    def layers(self) -> Sequence[str]:
        """Diff IDs of the view's layers, oldest first, up to the layer it shows (empty for flat views)."""
        return ()

    def layer_history(self, path: str) -> Sequence[str]:
        """Diff IDs of every layer that wrote ``path``, oldest first (empty for flat views)."""
        return ()

    def at_layer(self, diff_id: str) -> FileView:
        """The view as it stood right after layer ``diff_id`` was applied."""
        raise ViewError("this view has no layers")


class Source(ABC):
    """Something to scan: opens into a FileView (or, for SBOMs, straight into an inventory)."""

    kind: str

    @abstractmethod
    def info(self) -> SourceInfo:
        """What is being scanned (filled in as the source is opened)."""

    @abstractmethod
    def open_view(self, wants: PathFilter) -> FileView:
        """Open the view. ``wants`` says which files catalogers will read, so streamed sources can keep only
        those contents (every path's metadata is always kept)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release temporary files and handles."""

    def __enter__(self) -> Source:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# Already normal: segments of anything but "/" and "\\", none of them "." or "..", no empty segment.
_CLEAN = re.compile(r"(?:(?!\.\.?(?:/|$))[^/\\]+/)*(?!\.\.?$)[^/\\]+")


def normalize(path: str) -> str:
    """Lexically normalize a path inside a root: strip leading '/', './', resolve '.' and '..' without ever
    climbing above the root."""
    if _CLEAN.fullmatch(path):
        return path  # the common case (archive member names, catalogers' paths): nothing to resolve
    parts: list[str] = []
    for part in path.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)


# What a view knows of one path without following it: its kind ("dir", "symlink", "file", ...) and, for
# symlinks, the target as written; None when the path is absent.
LinkProbe = Callable[[str], "tuple[str, str | None] | None"]
MAX_LINK_DEPTH = 40


def resolve_links(path: str, probe: LinkProbe, max_depth: int = MAX_LINK_DEPTH) -> str:
    """Resolve every symlink in ``path`` component by component without leaving the root: an absolute target
    restarts at the root, ".." stops there. Raises FileNotFoundError for a missing component (or one under a
    non-directory) and ViewError after ``max_depth`` links (loops)."""
    pending = [p for p in normalize(path).split("/") if p]
    done: list[str] = []
    hops = 0
    while pending:
        part = pending.pop(0)
        if part == "..":
            if done:
                done.pop()
            continue
        if part == ".":
            continue
        found = probe("/".join([*done, part]))
        if found is None:
            raise FileNotFoundError(path)
        kind, target = found
        if kind == "symlink":
            hops += 1
            if hops > max_depth:
                raise ViewError(f"{path}: too many levels of symbolic links")
            target = target or ""
            if target.startswith("/"):
                done = []
            pending = [p for p in target.split("/") if p] + pending
            continue
        if pending and kind != "dir":
            raise FileNotFoundError(path)
        done.append(part)
    return "/".join(done)


def _raise_missing(path: str) -> str:
    raise FileNotFoundError(path)


class BytesView(FileView):
    """A small in-memory view: tests and SBOM/zip adapters build one from a dict of path → bytes."""

    def __init__(self, files: dict[str, bytes], symlinks: dict[str, str] | None = None) -> None:
        self._files = {normalize(k): v for k, v in files.items()}
        self._links = {normalize(k): v for k, v in (symlinks or {}).items()}

    def iter_files(self) -> Iterator[FileMeta]:
        for p, data in self._files.items():
            yield FileMeta(p, len(data), "file")
        for p, target in self._links.items():
            yield FileMeta(p, len(target), "symlink", link_target=target)

    def meta(self, path: str) -> FileMeta | None:
        p = normalize(path)
        if p in self._files:
            return FileMeta(p, len(self._files[p]), "file")
        if p in self._links:
            return FileMeta(p, len(self._links[p]), "symlink", link_target=self._links[p])
        return None

    def resolve(self, path: str) -> str:
        p = normalize(path)
        for _ in range(40):
            if p in self._files:
                return p
            target = self._links.get(p)
            if target is None:
                raise FileNotFoundError(path)
            base = p.rsplit("/", 1)[0] if "/" in p else ""
            p = normalize(target if target.startswith("/") else f"{base}/{target}")
        raise ViewError(f"{path}: too many levels of symbolic links")

    def open(self, path: str) -> BinaryIO:
        return io.BytesIO(self._files[self.resolve(path)])
