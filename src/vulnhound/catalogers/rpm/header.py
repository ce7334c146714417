"""The rpm header blob as package databases store it (no lead, no magic): index entries, then a data store.

Layout (rpm lib/header.c headerImport, hdrblobVerifyInfo): big-endian ``il`` (entry count) and ``dl`` (data
length), ``il`` 16-byte entries (tag, type, offset, count), then ``dl`` bytes of data. Every read is
bounds-checked; a bad blob raises ``HeaderError`` with the byte offset inside the blob.
"""

from __future__ import annotations

import struct
from collections.abc import Collection
from dataclasses import dataclass, field

# Tag numbers (rpm include/rpm/rpmtag.h).
NAME, VERSION, RELEASE, EPOCH = 1000, 1001, 1002, 1003
SIZE, VENDOR, LICENSE, ARCH, SOURCERPM = 1009, 1011, 1014, 1022, 1044
OLDFILENAMES, DIRINDEXES, BASENAMES, DIRNAMES = 1027, 1116, 1117, 1118
LONGSIZE, MODULARITYLABEL = 5009, 5096

PACKAGE_TAGS = frozenset({NAME, VERSION, RELEASE, EPOCH, SIZE, VENDOR, LICENSE, ARCH, SOURCERPM, LONGSIZE,
                          MODULARITYLABEL})
FILE_TAGS = frozenset({OLDFILENAMES, DIRINDEXES, BASENAMES, DIRNAMES})

# Entry data types.
T_NULL, T_CHAR, T_INT8, T_INT16, T_INT32, T_INT64, T_STRING, T_BIN, T_STRING_ARRAY, T_I18NSTRING = range(10)
_INT_FORMATS = {T_CHAR: ("B", 1), T_INT8: ("B", 1), T_INT16: ("H", 2), T_INT32: ("I", 4), T_INT64: ("Q", 8)}

MAX_TAGS = 0xFFFF  # HEADER_TAGS_MAX
MAX_DATA = 0x0FFFFFFF  # HEADER_DATA_MAX (256 MiB)
_ENTRY = struct.Struct(">iIiI")

Value = str | list[str] | list[int] | bytes


class HeaderError(ValueError):
    """A header blob that does not verify; ``offset`` is the byte position inside the blob."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (blob offset {offset})")
        self.offset = offset


@dataclass(slots=True)
class Header:
    """Decoded values of the requested tags; absent tags are absent."""

    tags: dict[int, Value] = field(default_factory=dict)

    def string(self, tag: int) -> str | None:
        v = self.tags.get(tag)
        if isinstance(v, str):
            return v
        if isinstance(v, list) and v and isinstance(v[0], str):
            return v[0]  # I18NSTRING read as an array: the C locale entry comes first
        return None

    def strings(self, tag: int) -> list[str]:
        v = self.tags.get(tag)
        if isinstance(v, str):
            return [v]
        return [x for x in v if isinstance(x, str)] if isinstance(v, list) else []

    def integer(self, tag: int) -> int | None:
        v = self.tags.get(tag)
        return v[0] if isinstance(v, list) and v and isinstance(v[0], int) else None

    def integers(self, tag: int) -> list[int]:
        v = self.tags.get(tag)
        return [x for x in v if isinstance(x, int)] if isinstance(v, list) else []

    def files(self) -> list[str]:
        """Installed paths, "/usr/bin/x" style: DIRNAMES[DIRINDEXES[i]] + BASENAMES[i], or OLDFILENAMES."""
        base, dirs, idx = self.strings(BASENAMES), self.strings(DIRNAMES), self.integers(DIRINDEXES)
        if base:
            if len(idx) != len(base):
                raise HeaderError("BASENAMES and DIRINDEXES differ in length", 0)
            try:
                return [dirs[i] + b for i, b in zip(idx, base, strict=True)]
            except IndexError:
                raise HeaderError("DIRINDEXES points past DIRNAMES", 0) from None
        return self.strings(OLDFILENAMES)


def parse_header(blob: bytes | memoryview, tags: Collection[int] = PACKAGE_TAGS) -> Header:
    """Decode ``tags`` from a header blob, verifying sizes and every entry it reads."""
    if len(blob) < 8:
        raise HeaderError(f"blob of {len(blob)} bytes is shorter than its 8-byte preamble", 0)
    il, dl = struct.unpack_from(">II", blob, 0)
    if not 0 < il <= MAX_TAGS:
        raise HeaderError(f"bad index entry count {il}", 0)
    if dl > MAX_DATA:
        raise HeaderError(f"bad data length {dl}", 4)
    data_start = 8 + il * 16
    if data_start + dl > len(blob):
        raise HeaderError(f"header needs {data_start + dl} bytes, blob has {len(blob)}", 0)
    data = bytes(blob[data_start : data_start + dl])
    out: dict[int, Value] = {}
    for i, (tag, typ, off, count) in enumerate(_ENTRY.iter_unpack(blob[8:data_start])):
        if tag not in tags:
            continue
        where = 8 + i * 16
        if typ > T_I18NSTRING or off < 0 or off >= dl or count == 0 or count > dl:
            raise HeaderError(f"bad entry tag={tag} type={typ} offset={off} count={count}", where)
        out[tag] = _value(data, typ, off, count, where)
    return Header(out)


def _value(data: bytes, typ: int, off: int, count: int, where: int) -> Value:
    if typ == T_STRING:
        end = data.find(b"\0", off)
        if end < 0:
            raise HeaderError("unterminated string", where)
        return data[off:end].decode("utf-8", errors="replace")
    if typ in (T_STRING_ARRAY, T_I18NSTRING):
        items: list[str] = []
        pos = off
        for _ in range(count):
            end = data.find(b"\0", pos)
            if end < 0:
                raise HeaderError("unterminated string array", where)
            items.append(data[pos:end].decode("utf-8", errors="replace"))
            pos = end + 1
        return items
    if typ == T_BIN:
        if off + count > len(data):
            raise HeaderError("binary value past end of data", where)
        return data[off : off + count]
    if typ in _INT_FORMATS:
        fmt, size = _INT_FORMATS[typ]
        if off % size or off + size * count > len(data):
            raise HeaderError("misaligned or overlong integer array", where)
        return list(struct.unpack_from(f">{count}{fmt}", data, off))
    return b""
