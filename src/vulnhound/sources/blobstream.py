"""Read one image blob as a stream: verify its sha256 while reading, decompress gzip/zstd, bound the output.

A background thread reads, hashes and decompresses (all of which release the GIL) while the caller parses
tar headers, so hashing a layer costs little extra wall time on two cores.
"""

from __future__ import annotations

import hashlib
import queue
import threading
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from vulnhound.sources.interface import SourceError

CHUNK = 4 << 20
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


@dataclass(slots=True)
class Limits:
    """Decompression-bomb bounds: total uncompressed bytes over the whole image, and per-layer expansion."""

    max_total_bytes: int = 64 << 30
    max_ratio: int = 200  # uncompressed / compressed, above ``ratio_floor``
    ratio_floor: int = 1 << 30
    used: int = 0  # running total across layers of one image


class _Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


class _HashingReader:
    """Reads the raw blob, hashing and counting what passes, refusing to read past the declared length."""

    def __init__(self, raw: _Readable, length: int | None, hashing: bool = True) -> None:
        self.raw = raw
        self.length = length
        self.sha = hashlib.sha256()
        self.hashing = hashing
        self.count = 0

    def read(self, n: int = -1) -> bytes:
        if self.length is not None:
            left = self.length - self.count
            n = left if n < 0 else min(n, left)
            if n <= 0:
                return b""
        data = self.raw.read(n)
        if self.hashing:
            self.sha.update(data)
        self.count += len(data)
        return data


def compression_of(head: bytes) -> str:
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return "none"


class BlobStream:
    """Uncompressed bytes of one blob with ``read(n)`` and ``skip(n)``; ``finish()`` checks the digest.

    ``name`` is how errors name the blob (its digest or archive path). ``digest`` is the expected sha256 of the
    raw blob ("sha256:…") or None to skip the check; ``uncompressed_digest`` (a diff ID) is checked over the
    decompressed bytes when given and the blob is compressed (docker-archive layers are named by diff ID only).
    """

    def __init__(self, raw: _Readable, name: str, *, length: int | None = None, digest: str | None = None,
                 uncompressed_digest: str | None = None, limits: Limits | None = None) -> None:
        self.name = name
        self.digest = digest
        self.limits = limits or Limits()
        self._hashing = _HashingReader(raw, length, hashing=bool(digest or uncompressed_digest))
        head = self._hashing.read(4)
        self.compression = compression_of(head)
        self._want_plain_sha = uncompressed_digest if self.compression != "none" else None
        self._plain_sha = hashlib.sha256() if self._want_plain_sha else None
        self.uncompressed_digest = uncompressed_digest
        self.length = length
        self.produced = 0
        self._queue: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=4)
        self._stop = threading.Event()
        self._buf = memoryview(b"")
        self._pos = 0
        self._eof = False
        self._thread = threading.Thread(target=self._produce, args=(head,), daemon=True, name=f"blob {name}")
        self._thread.start()

    # -- producer thread --------------------------------------------------------------------------------
    def _produce(self, head: bytes) -> None:
        try:
            if self.compression == "none":
                self._produce_plain(head)
            else:
                self._produce_compressed(head)
            self._put(None)
        except SourceError as exc:  # handed to the consumer, which raises it in its own thread
            self._put(exc)
        except Exception as exc:  # I/O and network errors while reading the blob
            self._put(SourceError(f"blob {self.name}: read failed ({exc!r})"))

    def _put(self, item: bytes | BaseException | None) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _produce_plain(self, head: bytes) -> None:
        if head:
            self._put(head)
        while not self._stop.is_set():
            data = self._hashing.read(CHUNK)
            if not data:
                return
            self._put(data)

    def _produce_compressed(self, head: bytes) -> None:
        reader = self._decompressor(head)
        ratio_limit = max(self.limits.ratio_floor, self.limits.max_ratio * (self.length or 0))
        while not self._stop.is_set():
            try:
                data = reader.read(CHUNK)
            except SourceError:
                raise
            except Exception as exc:  # zlib/zstd errors: corrupt or truncated compressed data
                raise SourceError(f"blob {self.name}: corrupt {self.compression} data ({exc})") from exc
            if not data:
                return
            if self._plain_sha is not None:
                self._plain_sha.update(data)
            self.produced += len(data)
            if self.produced > ratio_limit:
                raise SourceError(f"blob {self.name}: decompresses to more than {ratio_limit} bytes from "
                                  f"{self.length} compressed (a decompression bomb?); refused")
            self._put(data)

    def _decompressor(self, head: bytes) -> _Readable:
        src = _Prefixed(head, self._hashing)
        if self.compression == "gzip":
            from isal import igzip

            gz: _Readable = igzip.IGzipFile(fileobj=src, mode="rb")  # type: ignore[no-untyped-call]
            return gz
        import zstandard

        reader: _Readable = zstandard.ZstdDecompressor().stream_reader(src, read_size=1 << 20)  # type: ignore[arg-type]
        return reader

    # -- consumer side ----------------------------------------------------------------------------------
    def _next_chunk(self) -> bool:
        if self._eof:
            return False
        item = self._queue.get()
        if item is None:
            self._eof = True
            return False
        if isinstance(item, BaseException):
            self._eof = True
            raise item
        self._account(len(item))
        self._buf = memoryview(item)
        self._pos = 0
        return True

    def _account(self, n: int) -> None:
        lim = self.limits
        lim.used += n
        if lim.used > lim.max_total_bytes:
            raise SourceError(f"blob {self.name}: image expands past {lim.max_total_bytes} uncompressed bytes "
                              "(decompression-bomb limit); refused — raise the limit if the image is genuine")

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes; fewer only at the end of the blob."""
        avail = len(self._buf) - self._pos
        if avail >= n:
            out = self._buf[self._pos : self._pos + n].tobytes()
            self._pos += n
            return out
        parts = [self._buf[self._pos :].tobytes()]
        got = avail
        self._pos = len(self._buf)
        while got < n and self._next_chunk():
            take = min(n - got, len(self._buf))
            parts.append(self._buf[:take].tobytes())
            self._pos = take
            got += take
        return b"".join(parts)

    def skip(self, n: int) -> int:
        """Skip ``n`` bytes; returns how many were actually skipped (fewer at the end of the blob)."""
        skipped = 0
        while skipped < n:
            avail = len(self._buf) - self._pos
            if avail == 0:
                if not self._next_chunk():
                    break
                continue
            take = min(avail, n - skipped)
            self._pos += take
            skipped += take
        return skipped

    def finish(self) -> None:
        """Drain what is left (trailing padding), then check the digests; raises SourceError on mismatch."""
        while self._next_chunk():
            pass
        if self.length is not None and self._hashing.count != self.length:
            raise SourceError(f"blob {self.name}: {self._hashing.count} bytes, manifest says {self.length}")
        if self.digest and self.digest.startswith("sha256:"):
            got = "sha256:" + self._hashing.sha.hexdigest()
            if got != self.digest:
                raise SourceError(f"blob {self.name}: digest mismatch (content is {got}); refused")
        if self.compression == "none" and self.uncompressed_digest:
            got = "sha256:" + self._hashing.sha.hexdigest()
            if got != self.uncompressed_digest:
                raise SourceError(f"blob {self.name}: content is {got}, not the diff ID {self.uncompressed_digest}; "
                                  "refused")
        if self._plain_sha is not None and self._want_plain_sha:
            got = "sha256:" + self._plain_sha.hexdigest()
            if got != self._want_plain_sha:
                raise SourceError(f"blob {self.name}: uncompressed digest {got} is not the diff ID "
                                  f"{self._want_plain_sha}; refused")

    @property
    def raw_digest(self) -> str | None:
        """sha256 of the blob as stored, once fully read (None when digests were not computed)."""
        return "sha256:" + self._hashing.sha.hexdigest() if self._hashing.hashing else None

    def close(self) -> None:
        self._stop.set()
        while True:  # unblock a producer waiting on a full queue
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        self._thread.join(timeout=5)


class _Prefixed:
    """A reader that first returns ``head`` (bytes already read to sniff the format), then ``rest``."""

    def __init__(self, head: bytes, rest: _Readable) -> None:
        self.head = head
        self.rest = rest

    def read(self, n: int = -1) -> bytes:
        if self.head:
            if n < 0 or n >= len(self.head):
                out, self.head = self.head, b""
                return out + self.rest.read(n - len(out) if n >= 0 else -1)
            out, self.head = self.head[:n], self.head[n:]
            return out
        return self.rest.read(n)

    def readinto(self, b: bytearray | memoryview) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True


def open_file_slice(fh: BinaryIO, offset: int, length: int) -> _Readable:
    """A reader over ``length`` bytes at ``offset`` of an open file (a blob inside an archive tar)."""
    fh.seek(offset)
    return _Slice(fh, length)


class _Slice:
    def __init__(self, fh: BinaryIO, length: int) -> None:
        self.fh = fh
        self.left = length

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        if n <= 0:
            return b""
        data = self.fh.read(n)
        self.left -= len(data)
        return data
