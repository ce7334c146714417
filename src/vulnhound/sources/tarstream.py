"""A streaming tar header reader for image layers: headers only, bodies skipped unless asked for.

``tarfile`` in stream mode reads every body it passes; this reads 512-byte headers (ustar, GNU long names,
PAX path/linkpath/size) and skips bodies, so a layer costs one pass and no per-file copies.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from vulnhound.sources.interface import SourceError

BLOCK = 512
REGULAR = frozenset(b"07\x00S")  # regular, contiguous, old-style regular, GNU sparse (treated as regular)
ZERO_BLOCK = bytes(BLOCK)
GNU_LONG_NAME, GNU_LONG_LINK, PAX_HEADER, PAX_GLOBAL = b"LKxg"


class Stream(Protocol):
    def read(self, n: int) -> bytes: ...

    def skip(self, n: int) -> int: ...


@dataclass(slots=True)
class TarEntry:
    """One member: ``kind`` is "file", "dir", "symlink", "hardlink" or "other" (devices, fifos)."""

    name: str
    kind: str
    size: int
    mode: int
    linkname: str
    offset: int  # of the header, for error messages


class TarError(SourceError):
    """A malformed or truncated layer tar."""


def _num(field: bytes) -> int:
    if field and field[0] & 0x80:  # GNU base-256 for values that do not fit in octal
        value = int.from_bytes(field, "big", signed=False) & ~(0x80 << (8 * (len(field) - 1)))
        return value
    text = field.split(b"\x00", 1)[0].strip(b" \x00")
    return int(text, 8) if text else 0


def _str(field: bytes) -> str:
    return field.split(b"\x00", 1)[0].decode("utf-8", "surrogateescape")


def _pax(data: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        sp = data.find(b" ", pos)
        if sp < 0:
            break
        try:
            length = int(data[pos:sp])
        except ValueError:
            break
        if length <= 0:
            break
        record = data[sp + 1 : pos + length - 1]
        key, _, value = record.partition(b"=")
        out[key.decode("utf-8", "replace")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return out


class TarReader:
    """Iterate a tar stream's entries. While an entry is current, ``read_body`` reads its content; whatever the
    caller does not read is skipped when iteration moves on."""

    def __init__(self, stream: Stream, name: str) -> None:
        self.stream = stream
        self.name = name
        self.offset = 0
        self.missing_end_blocks = False
        self._left = 0  # body bytes of the current entry not yet consumed
        self._pad = 0
        self._current: TarEntry | None = None

    def _read(self, n: int) -> bytes:
        data = self.stream.read(n)
        self.offset += len(data)
        return data

    def _skip(self, n: int, what: str) -> None:
        got = self.stream.skip(n)
        self.offset += got
        if got < n:
            raise TarError(f"layer {self.name}: truncated inside {what} at offset {self.offset} "
                           f"({n - got} bytes missing); the layer was cut short")

    def read_body(self, n: int) -> bytes:
        n = min(n, self._left)
        data = self._read(n)
        self._left -= len(data)
        if len(data) < n:
            what = self._current.name if self._current else "a member"
            raise TarError(f"layer {self.name}: truncated inside {what} at offset {self.offset}; "
                           "the layer was cut short")
        return data

    def _finish_current(self) -> None:
        if self._current is not None:
            self._skip(self._left + self._pad, self._current.name)
            self._left = self._pad = 0
            self._current = None

    def _read_meta_body(self, size: int, what: str) -> bytes:
        if size > 1 << 20:
            raise TarError(f"layer {self.name}: {what} header of {size} bytes at offset {self.offset}; refused")
        data = self._read(size)
        if len(data) < size:
            raise TarError(f"layer {self.name}: truncated inside a {what} header at offset {self.offset}")
        self._skip(-size % BLOCK, what)
        return data

    def __iter__(self) -> Iterator[TarEntry]:
        long_name: str | None = None
        long_link: str | None = None
        pax: dict[str, str] = {}
        while True:
            self._finish_current()
            start = self.offset
            hdr = self._read(BLOCK)
            if not hdr:
                self.missing_end_blocks = True  # tolerated, as Docker does: the digest vouches for the content
                return
            if len(hdr) < BLOCK:
                raise TarError(f"layer {self.name}: truncated header at offset {start}; the layer was cut short")
            if hdr == ZERO_BLOCK:
                return  # end-of-archive; any further zero block is padding
            self._check(hdr, start)
            typeflag = hdr[156]
            size = _num(hdr[124:136])
            if typeflag in (GNU_LONG_NAME, GNU_LONG_LINK):
                value = self._read_meta_body(size, "GNU long name").split(b"\x00", 1)[0]
                decoded = value.decode("utf-8", "surrogateescape")
                if typeflag == GNU_LONG_NAME:
                    long_name = decoded
                else:
                    long_link = decoded
                continue
            if typeflag in (PAX_HEADER, PAX_GLOBAL):
                records = _pax(self._read_meta_body(size, "PAX"))
                if typeflag == PAX_HEADER:
                    pax.update(records)
                continue
            name = _str(hdr[0:100])
            if hdr[257:263] == b"ustar\x00" and hdr[345] != 0:
                name = _str(hdr[345:500]) + "/" + name
            linkname = _str(hdr[157:257]) if hdr[157] else ""  # empty for all but links: skip the decode
            if long_name is not None:
                name = long_name
            if long_link is not None:
                linkname = long_link
            name = pax.get("path", name)
            linkname = pax.get("linkpath", linkname)
            if "size" in pax:
                try:
                    size = int(pax["size"])
                except ValueError as exc:
                    raise TarError(f"layer {self.name}: bad PAX size at offset {start}") from exc
            long_name = long_link = None
            pax = {}
            kind = _kind(typeflag, name)
            body = 0 if typeflag in b"123456" else size  # links, devices, dirs and fifos carry no data
            self._left = body
            self._pad = -body % BLOCK
            self._current = TarEntry(name, kind, size if kind == "file" else 0,
                                     _num(hdr[100:108]) & 0o7777, linkname, start)
            yield self._current

    def _check(self, hdr: bytes, start: int) -> None:
        try:
            stored = _num(hdr[148:156])
        except ValueError:
            stored = -1
        computed = sum(hdr) - sum(hdr[148:156]) + 8 * 32
        if stored != computed:
            raise TarError(f"layer {self.name}: corrupt tar header at offset {start} (bad checksum); "
                           "not a tar, or damaged")


def _kind(typeflag: int, name: str) -> str:
    if typeflag in REGULAR:
        return "dir" if typeflag == 0 and name.endswith("/") else "file"
    if typeflag == ord("1"):
        return "hardlink"
    if typeflag == ord("2"):
        return "symlink"
    if typeflag == ord("5"):
        return "dir"
    return "other"
