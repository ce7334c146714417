"""Read the module build info that the Go linker embeds in a binary, without running it.

Two layouts exist behind the ``\\xff Go buildinf:`` magic (aligned to 16): Go 1.18+ writes the version and module
strings inline as varint-prefixed bytes (flag bit 2); older toolchains store two pointers to Go string headers,
which this reader follows through the section table (ELF, Mach-O).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import BinaryIO

from vulnhound.catalogers.executable import ELF, MACHO, ExeError, Section, find_section, read_at, sections

MAGIC = b"\xff Go buildinf:"
SECTIONS = (".go.buildinfo", "__go_buildinfo")  # ELF/PE and Mach-O names of the section holding it
HEADER_SIZE = 32
_MAX_STRING = 4 << 20  # the module list of the largest binaries is a few hundred KB
_SCAN_CHUNK = 1 << 20
_FLAG_BIG_ENDIAN, _FLAG_INLINE = 0x1, 0x2


@dataclass(slots=True)
class Module:
    path: str
    version: str
    sum: str | None = None
    replace: Module | None = None


@dataclass(slots=True)
class BuildInfo:
    go_version: str
    path: str | None = None  # the main package's import path
    main: Module | None = None
    deps: list[Module] = field(default_factory=list)
    settings: dict[str, str] = field(default_factory=dict)
    located_by: str = "section"  # "section", or "scan": PE files (Go gives them no section) and cut/stripped tables


def read_buildinfo(fh: BinaryIO, fmt: str, limit: int) -> BuildInfo | None:
    """The build info of an executable of format ``fmt``; None for programs not built by Go 1.13+.

    Raises ExeError when the magic is there but what follows is cut or inconsistent."""
    secs: list[Section] = []
    cut: ExeError | None = None
    try:
        secs = sections(fh, fmt)
    except ExeError as exc:
        cut = exc  # section headers sit at the end of an ELF file: a cut file still holds the build info
    sec = find_section(secs, *SECTIONS)
    located_by = "section"
    if sec is not None:
        offset: int | None = sec.offset
    elif fmt in (ELF, MACHO) and secs:
        return None  # every Go ELF/Mach-O since 1.13 has the section; its absence means another toolchain
    else:
        offset, located_by = _scan(fh, limit), "scan"
    if offset is None:
        return None
    header = read_at(fh, offset, HEADER_SIZE)
    if not header.startswith(MAGIC):
        raise ExeError(f"Go build info section at {offset} lacks the magic")
    ptr_size, flags = header[14], header[15]
    if flags & _FLAG_INLINE:
        vers, mod = _inline_strings(fh, offset + HEADER_SIZE)
    else:
        if cut is not None or not secs:
            raise ExeError("pre-1.18 Go build info needs the section table to follow its pointers")
        vers, mod = _pointer_strings(fh, header, ptr_size, ">" if flags & _FLAG_BIG_ENDIAN else "<", secs)
    info = parse_modinfo(vers, mod)
    info.located_by = located_by
    return info


def parse_modinfo(vers: str, mod: str) -> BuildInfo:
    """Turn the version string and the tab-separated module text (``path``/``mod``/``dep``/``=>``/``build``
    lines, as ``go version -m`` prints them) into a BuildInfo."""
    # The module text is framed by 16-byte sentinels so that the linker can find it.
    if len(mod) >= 33 and mod[-17] == "\n":
        mod = mod[16:-16]
    info = BuildInfo(go_version=vers)
    last: Module | None = None
    for line in mod.splitlines():
        kind, _, rest = line.partition("\t")
        cols = rest.split("\t")
        if kind == "path":
            info.path = rest
        elif kind in ("mod", "dep") and len(cols) >= 2:
            last = Module(cols[0], cols[1], _col(cols, 2) or None)
            if kind == "mod":
                info.main = last
            else:
                info.deps.append(last)
        elif kind == "=>" and last is not None and cols:
            last.replace = Module(cols[0], _col(cols, 1), _col(cols, 2) or None)
        elif kind == "build":
            key, _, value = rest.partition("=")
            info.settings[key] = value
    return info


def _col(cols: list[str], i: int) -> str:
    return cols[i] if len(cols) > i else ""


def _scan(fh: BinaryIO, limit: int) -> int | None:
    """Offset of the first 16-aligned magic in the first ``limit`` bytes (Go's own fallback for files whose
    section table is missing or cut)."""
    pos = 0
    tail = b""
    while pos < limit:
        fh.seek(pos)
        chunk = fh.read(min(_SCAN_CHUNK, limit - pos))
        if not chunk:
            return None
        data = tail + chunk
        base = pos - len(tail)
        i = data.find(MAGIC)
        while i >= 0:
            if (base + i) % 16 == 0:
                return base + i
            i = data.find(MAGIC, i + 1)
        tail = data[-16:]
        pos += len(chunk)
    return None


def _uvarint(buf: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(buf):
            raise ExeError("Go build info: varint cut")
        b = buf[pos]
        pos += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise ExeError("Go build info: varint overflow")


def _inline_strings(fh: BinaryIO, offset: int) -> tuple[str, str]:
    out: list[str] = []
    for _ in range(2):
        fh.seek(offset)
        n, used = _uvarint(fh.read(10), 0)
        if n > _MAX_STRING:
            raise ExeError(f"Go build info: string of {n} bytes")
        try:
            out.append(read_at(fh, offset + used, n).decode("utf-8", errors="replace"))
        except ExeError:
            raise ExeError(f"Go build info cut: {n}-byte string at {offset + used}, file ends first") from None
        offset += used + n
    return out[0], out[1]


def _pointer_strings(fh: BinaryIO, header: bytes, ptr_size: int, e: str, secs: list[Section]) -> tuple[str, str]:
    if ptr_size not in (4, 8):
        raise ExeError(f"Go build info: pointer size {ptr_size}")
    word = e + ("Q" if ptr_size == 8 else "I")

    def string_at(addr: int) -> str:
        hdr = read_at(fh, _file_offset(secs, addr, 2 * ptr_size), 2 * ptr_size)
        data, length = struct.unpack(word, hdr[:ptr_size])[0], struct.unpack(word, hdr[ptr_size:])[0]
        if length > _MAX_STRING:
            raise ExeError(f"Go build info: string of {length} bytes")
        if length == 0:
            return ""
        return read_at(fh, _file_offset(secs, data, length), length).decode("utf-8", errors="replace")

    vers_ptr = struct.unpack(word, header[16 : 16 + ptr_size])[0]
    mod_ptr = struct.unpack(word, header[16 + ptr_size : 16 + 2 * ptr_size])[0]
    return string_at(vers_ptr), string_at(mod_ptr)


def _file_offset(secs: list[Section], addr: int, size: int) -> int:
    for s in secs:
        if s.size and s.addr <= addr and addr + size <= s.addr + s.size:
            return s.offset + (addr - s.addr)
    raise ExeError(f"Go build info: address {addr:#x} is in no section")
