"""Uncompressed layer blobs on local disk, read in place: tar headers are parsed straight from an mmap of the file
(bodies are sought over, never copied) while one background thread sha256-hashes the layers' byte ranges.

hashlib releases the GIL while it hashes a big buffer, so hashing a 1 GB docker-archive runs on the second core
beside the header parse (and the cataloging) instead of behind a producer/consumer copy. Digests are checked before
the scan's result is returned (``ImageSource._settle``); a mismatch fails the whole image. Pages already parsed or
hashed are dropped from the mapping (they stay in the page cache): resident memory does not grow with the archive.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import stat
import threading
from dataclasses import dataclass, field

from vulnhound.sources.blobstream import Limits, compression_of
from vulnhound.sources.interface import SourceError

# Per hashlib.update. Big: the hashing thread needs the GIL back after each one and, while the parse runs, waits up
# to a switch interval (5 ms) for it; 8 MB chunks spent ~1 s of a 1 GB archive waiting so.
HASH_CHUNK = 32 << 20
DROP_EVERY = 8 << 20  # the parse unmaps what it has passed in steps of this many bytes
_DONTNEED = getattr(mmap, "MADV_DONTNEED", None)


class MappedFiles:
    """One read-only mapping per file, shared by the layers that lie in it (all of a docker-archive's)."""

    def __init__(self) -> None:
        self._maps: dict[str, tuple[mmap.mmap, int, int]] = {}

    def get(self, path: str) -> tuple[mmap.mmap, int, int] | None:
        """(mapping, descriptor, file size), or None when the file cannot be mapped (empty, special, gone)."""
        if path not in self._maps:
            try:
                fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            except OSError:
                return None
            try:
                st = os.fstat(fd)
                if st.st_size == 0 or not stat.S_ISREG(st.st_mode):
                    os.close(fd)
                    return None
                self._maps[path] = (mmap.mmap(fd, 0, access=mmap.ACCESS_READ), fd, st.st_size)
            except (OSError, ValueError):
                os.close(fd)
                return None
        return self._maps[path]

    def close(self) -> None:
        for mm, fd, _ in self._maps.values():
            mm.close()
            os.close(fd)
        self._maps.clear()


class MappedBlob:
    """One uncompressed blob at ``[start, start + length)`` of a mapping: the ``Stream`` a ``TarReader`` reads."""

    def __init__(self, mm: mmap.mmap, fd: int, file_size: int, start: int, length: int, name: str,
                 limits: Limits) -> None:
        self.mm = mm
        self.fd = fd
        self.start = start
        self.length = length
        self.name = name
        self.available = max(0, min(length, file_size - start))  # a short file is reported by the hasher's check
        self.end = start + self.available
        self.pos = start
        self.limits = limits
        self._dropped = start - start % mmap.PAGESIZE  # pages below this are no longer mapped in
        self._next_drop = start + DROP_EVERY

    def read(self, n: int) -> bytes:
        end = min(self.pos + n, self.end)
        data = self.mm[self.pos : end]
        self.pos = end
        if end >= self._next_drop:
            self._drop()
        return data

    def skip(self, n: int) -> int:
        end = min(self.pos + n, self.end)
        got = end - self.pos
        self.pos = end
        if end >= self._next_drop:
            self._drop()
        return got

    def _drop(self) -> None:
        self.check_size()
        upto = self.pos - self.pos % mmap.PAGESIZE
        if _DONTNEED is not None and upto > self._dropped:
            self.mm.madvise(_DONTNEED, self._dropped, upto - self._dropped)
            self._dropped = upto
        self._next_drop = self.pos + DROP_EVERY

    def check_size(self) -> None:
        """Refuse a file that shrank under the mapping (a ``docker save -o`` over it): touching a page past its new
        end would kill the process with SIGBUS. Checked every few MB, which leaves only a narrow window."""
        size = os.fstat(self.fd).st_size
        if size < self.end:
            raise SourceError(f"blob {self.name}: the file shrank to {size} bytes while being read; refused")

    def account(self) -> None:
        """Count the blob against the image's uncompressed-bytes bound, as the streamed path counts what it reads."""
        lim = self.limits
        lim.used += self.available
        if lim.used > lim.max_total_bytes:
            raise SourceError(f"blob {self.name}: image expands past {lim.max_total_bytes} uncompressed bytes "
                              "(decompression-bomb limit); refused — raise the limit if the image is genuine")


def open_mapped(files: MappedFiles, location: tuple[str, int] | None, length: int | None, name: str,
                limits: Limits) -> MappedBlob | None:
    """A ``MappedBlob`` for an uncompressed blob at ``location`` (file, offset); None when it is compressed, of
    unknown length, or cannot be mapped (the caller then streams it)."""
    if location is None or length is None or length <= 0:
        return None
    got = files.get(location[0])
    if got is None:
        return None
    mm, fd, size = got
    if location[1] >= size or compression_of(mm[location[1] : location[1] + 4]) != "none":
        return None
    return MappedBlob(mm, fd, size, location[1], length, name, limits)


@dataclass(slots=True)
class HashJob:
    """A blob to hash and the digests it must have (``digest``: as stored; ``diff_id``: uncompressed, the same
    bytes here, named differently in errors as the streamed path names them)."""

    blob: MappedBlob
    digest: str | None
    diff_id: str | None
    got: str | None = None
    done: threading.Event = field(default_factory=threading.Event)


class Hasher:
    """One background thread that hashes the jobs in order; ``check`` waits for them and raises on a mismatch."""

    def __init__(self) -> None:
        self.jobs: list[HashJob] = []
        self._stop = threading.Event()
        self._more = threading.Condition()
        self._closed = False
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="layer sha256")
        self._thread.start()

    def add(self, blob: MappedBlob, digest: str | None, diff_id: str | None) -> HashJob:
        job = HashJob(blob, digest, diff_id)
        with self._more:
            self.jobs.append(job)
            self._more.notify()
        return job

    def _run(self) -> None:
        i = 0
        try:
            while True:
                with self._more:
                    while i >= len(self.jobs) and not self._closed and not self._stop.is_set():
                        self._more.wait()
                    if self._stop.is_set() or i >= len(self.jobs):
                        return
                    job = self.jobs[i]
                self._hash(job)
                job.done.set()
                i += 1
        except BaseException as exc:  # handed to the main thread by check()
            self._error = exc
        finally:
            for job in self.jobs[i:]:
                job.done.set()

    def _hash(self, job: HashJob) -> None:
        b = job.blob
        sha = hashlib.sha256()
        with memoryview(b.mm) as view:
            pos = b.start
            while pos < b.end:
                if self._stop.is_set():
                    return
                b.check_size()
                end = min(pos + HASH_CHUNK, b.end)
                with view[pos:end] as chunk:
                    sha.update(chunk)
                # unmap what was hashed (it stays in the page cache): resident memory stays one chunk, not the file
                lo = pos - pos % mmap.PAGESIZE
                hi = end - end % mmap.PAGESIZE
                if _DONTNEED is not None and hi > lo:
                    b.mm.madvise(_DONTNEED, lo, hi - lo)
                pos = end
        job.got = "sha256:" + sha.hexdigest()

    def check(self, upto: int | None = None) -> None:
        """Wait for jobs ``[0, upto)`` (all by default) and raise SourceError for the first that is short or whose
        content does not match its digest — in the streamed path's words."""
        for job in self.jobs[:upto]:
            job.done.wait()
            if isinstance(self._error, SourceError):
                raise self._error
            if self._error is not None:
                raise SourceError(f"blob {job.blob.name}: read failed ({self._error!r})")
            b = job.blob
            if b.available != b.length:
                raise SourceError(f"blob {b.name}: {b.available} bytes, manifest says {b.length}")
            if job.digest and job.got != job.digest:
                raise SourceError(f"blob {b.name}: digest mismatch (content is {job.got}); refused")
            if job.diff_id and job.got != job.diff_id:
                raise SourceError(f"blob {b.name}: content is {job.got}, not the diff ID {job.diff_id}; refused")

    def close(self) -> None:
        """Stop (unfinished jobs are abandoned) and wait for the thread; the mappings may be closed after this."""
        self._stop.set()
        with self._more:
            self._closed = True
            self._more.notify()
        self._thread.join()

    def finish(self) -> None:
        """No more jobs: let the thread end after the queued ones."""
        with self._more:
            self._closed = True
            self._more.notify()


def sha256_file(path: str) -> str:
    """"sha256:…" of a whole file, hashed from a mapping in big GIL-free chunks whose pages are dropped after."""
    sha = hashlib.sha256()
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if size == 0 or not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            while data := fh.read(1 << 20):  # empty, or not mappable (a pipe): read it
                sha.update(data)
            return "sha256:" + sha.hexdigest()
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm, memoryview(mm) as view:
            for pos in range(0, size, HASH_CHUNK):
                end = min(pos + HASH_CHUNK, size)
                with view[pos:end] as chunk:
                    sha.update(chunk)
                if _DONTNEED is not None and end - end % mmap.PAGESIZE > pos:
                    mm.madvise(_DONTNEED, pos, end - end % mmap.PAGESIZE - pos)
    return "sha256:" + sha.hexdigest()


class BackgroundDigests:
    """``sha256_file`` of some files on a thread; ``result()`` waits and raises what hashing raised."""

    def __init__(self, paths: list[str]) -> None:
        self._paths = paths
        self._digests: list[str] = []
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="archive sha256")
        self._thread.start()

    def _run(self) -> None:
        try:
            self._digests = [sha256_file(p) for p in self._paths]
        except BaseException as exc:  # handed to the caller of result()
            self._error = exc

    def result(self) -> list[str]:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._digests
