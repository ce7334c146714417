"""Captured file contents of a streamed image: small ones in memory, the rest spooled to one private temp file
(or, for uncompressed blobs on local disk, referenced where they lie).

Memory stays bounded whatever the image size; the spool lives in a 0700 temp directory removed on close.
"""

from __future__ import annotations

import io
import os
import shutil
import tempfile
from typing import BinaryIO, Protocol

SMALL = 1 << 20  # files up to this size stay in memory ...
MEMORY_BUDGET = 64 << 20  # ... until this much is held; then everything spools
COPY_CHUNK = 1 << 20


class BodySource(Protocol):
    def read_body(self, n: int) -> bytes: ...


class Spooled:
    """Where a captured file sits in the spool file."""

    __slots__ = ("length", "offset")

    def __init__(self, offset: int, length: int) -> None:
        self.offset = offset
        self.length = length


class InPlace:
    """A file body that already sits uncompressed in a blob on disk: read from there, never copied."""

    __slots__ = ("length", "offset", "path")

    def __init__(self, path: str, offset: int, length: int) -> None:
        self.path = path
        self.offset = offset
        self.length = length


Content = bytes | Spooled | InPlace


class ContentStore:
    """Holds captured contents; ``put`` copies one tar member body in, ``open`` reads it back (seekable)."""

    def __init__(self, memory_budget: int = MEMORY_BUDGET) -> None:
        self.memory_budget = memory_budget
        self.in_memory = 0
        self.spooled = 0
        self._dir: str | None = None
        self._spool: BinaryIO | None = None

    def put(self, src: BodySource, size: int) -> Content:
        if size <= SMALL and self.in_memory + size <= self.memory_budget:
            data = src.read_body(size)
            self.in_memory += len(data)
            return data
        spool = self._spool_file()
        offset = spool.seek(0, os.SEEK_END)
        left = size
        while left > 0:
            chunk = src.read_body(min(left, COPY_CHUNK))
            spool.write(chunk)
            left -= len(chunk)
        spool.flush()
        self.spooled += size
        return Spooled(offset, size)

    def _spool_file(self) -> BinaryIO:
        if self._spool is None:
            self._dir = tempfile.mkdtemp(prefix="vulnhound-image-")
            self._spool = open(os.path.join(self._dir, "spool"), "w+b")  # noqa: SIM115 - closed in close()
        return self._spool

    def open(self, content: Content) -> BinaryIO:
        if isinstance(content, bytes):
            return io.BytesIO(content)
        if isinstance(content, InPlace):
            return io.BufferedReader(_SliceIO(content.path, content.offset, content.length))
        assert self._dir is not None
        raw = _SliceIO(os.path.join(self._dir, "spool"), content.offset, content.length)
        return io.BufferedReader(raw)

    def size(self, content: Content) -> int:
        return len(content) if isinstance(content, bytes) else content.length

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


class _SliceIO(io.RawIOBase):
    """A seekable read-only window onto part of the spool file (its own descriptor, pread-based)."""

    def __init__(self, path: str, offset: int, length: int) -> None:
        super().__init__()
        self._fd = os.open(path, os.O_RDONLY)
        self._start = offset
        self._length = length
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        n = max(0, min(len(b), self._length - self._pos))
        if n == 0:
            return 0
        data = os.pread(self._fd, n, self._start + self._pos)
        b[: len(data)] = data
        self._pos += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        base = {os.SEEK_SET: 0, os.SEEK_CUR: self._pos, os.SEEK_END: self._length}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()
