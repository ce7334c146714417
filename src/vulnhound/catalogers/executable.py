"""Executables without running them: which paths may be binaries (a string test), the format from the magic
bytes, and the section table of ELF, PE and 64-bit Mach-O files. The Go and Rust binary catalogers share one
``probe`` of each candidate per scan (one open, one parse of the section table)."""

from __future__ import annotations

import contextlib
import io
import re
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from vulnhound.catalogers.interface import CatalogContext, WantHints
from vulnhound.inventory.model import CatalogIssue
from vulnhound.sources.interface import FileView

# Binaries have no suffix, so the string test is "no dot in the basename" minus places that hold only data.
# Reading a file is left to catalog(), which looks at 4 magic bytes before anything else.
_DATA_PREFIXES = (
    "usr/share/", "usr/include/", "etc/", "var/lib/dpkg/", "var/lib/rpm/", "var/lib/apk/", "lib/apk/",
    "usr/lib/locale/", "usr/src/", "var/log/", "var/cache/", "proc/", "sys/", "dev/", "usr/lib/sysimage/",
    "usr/lib/python", "usr/local/lib/python", "usr/lib/ruby/", "usr/share/doc/", "usr/lib/jvm/",
)
_DATA_PARTS = re.compile(r"(?:^|/)(?:\.git|__pycache__|specifications|man|zoneinfo)/|\.(?:dist|egg)-info/")
_DATA_NAMES = frozenset({
    "LICENSE", "LICENCE", "COPYING", "NOTICE", "README", "AUTHORS", "CHANGELOG", "CHANGES", "Makefile",
    "Dockerfile", "METADATA", "RECORD", "WHEEL", "INSTALLER", "REQUESTED", "PKG-INFO", "Gemfile", "Rakefile",
    "VERSION", "CONTRIBUTORS", "PATENTS", "MAINTAINERS", "OWNERS", "HEAD", "config", "description", "go.sum",
})

ELF, PE, MACHO = "elf", "pe", "macho"
# What the engine may pre-filter on for ``wants_executable``: basenames without a dot, and ``.exe``.
EXECUTABLE_HINTS = WantHints(extensions=frozenset({".exe"}), no_extension=True)


class ExeError(Exception):
    """A file that starts like an executable but whose headers are cut or inconsistent."""


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    offset: int  # file offset of the bytes
    size: int  # bytes in the file
    addr: int  # virtual address when loaded (ELF/Mach-O; PE: RVA)


def wants_executable(path: str) -> bool:
    """Could ``path`` be a compiled program? String tests only: called for every path of every image."""
    slash = path.rfind("/")
    if path.rfind(".") > slash:  # a dot in the basename: most paths are settled here, without allocating
        return path.endswith(".exe")
    base = path[slash + 1 :]
    if not base or base in _DATA_NAMES or path.startswith(_DATA_PREFIXES) or _DATA_PARTS.search(path):
        return False
    # npm trees are full of extensionless text files; Go binaries shipped by npm (esbuild) sit under bin/.
    return "node_modules/" not in path or "/bin/" in path


# No cataloger looks at executables smaller than this (the Go reader wants even more).
PROBE_MIN_SIZE = 64
_PROBES = "executable.probes"  # CatalogContext.shared key: path → Probe, filled by the first binary cataloger


@dataclass(slots=True)
class Probe:
    """One look at a candidate file, shared by every binary cataloger of a scan so that each executable is
    opened and its section table parsed once: the format (None: not an executable, not a regular file, or
    under PROBE_MIN_SIZE bytes), the size, and the section table (empty when stripped, or ``cut``)."""

    fmt: str | None = None
    size: int = 0
    sections: list[Section] = field(default_factory=list)
    cut: bool = False  # the header announces a section table that is truncated or inconsistent
    unreadable: str | None = None  # why the file could not be read: reported once, see unreadable_issue
    reported: bool = False


def probe(view: FileView, path: str, ctx: CatalogContext) -> Probe:
    """The (cached per scan) Probe of ``path``; never raises for bad content or unreadable files."""
    cache: dict[str, Probe] = ctx.shared.setdefault(_PROBES, {})
    found = cache.get(path)
    if found is None:
        found = cache[path] = _probe(view, path, ctx.max_file_size)
    return found


def unreadable_issue(found: Probe, path: str, cataloger: str) -> CatalogIssue | None:
    """The probe's read failure as an issue, once per scan: the binary catalogers share the probe, so the first
    one to meet the failure reports it and the others do not repeat it."""
    if found.unreadable is None or found.reported:
        return None
    found.reported = True
    return CatalogIssue(cataloger, path, found.unreadable)


def _probe(view: FileView, path: str, limit: int) -> Probe:
    meta = view.meta(path)
    if meta is None or meta.kind != "file" or meta.size < PROBE_MIN_SIZE:
        return Probe(size=meta.size if meta is not None and meta.kind == "file" else 0)
    try:
        raw = view.open(path)
    except OSError as exc:
        return Probe(size=meta.size, unreadable=f"unreadable: {exc}")
    with raw:
        try:
            fmt = sniff(raw.read(4))
            if fmt is None:
                return Probe(size=meta.size)
            fh = seekable(raw, limit)
        except OSError as exc:
            return Probe(size=meta.size, unreadable=f"unreadable: {exc}")
        try:
            return Probe(fmt, meta.size, sections(fh, fmt))
        except (ExeError, OSError):
            return Probe(fmt, meta.size, cut=True)


@contextlib.contextmanager
def open_executable(view: FileView, path: str, ctx: CatalogContext) -> Iterator[BinaryIO]:
    """``path`` opened for random access (in memory, up to ``max_file_size``, when the view cannot seek)."""
    with view.open(path) as raw:
        yield seekable(raw, ctx.max_file_size)


def sniff(head: bytes) -> str | None:
    """The executable format from the first 4 bytes, or None. (0xCAFEBABE is skipped: Java classes use it too.)"""
    if head[:4] == b"\x7fELF":
        return ELF
    if head[:2] == b"MZ":
        return PE
    if head[:4] in (b"\xcf\xfa\xed\xfe", b"\xfe\xed\xfa\xcf"):
        return MACHO
    return None


def seekable(fh: BinaryIO, limit: int) -> BinaryIO:
    """``fh`` itself when it can seek, else its first ``limit`` bytes in memory."""
    return fh if fh.seekable() else io.BytesIO(fh.read(limit))


def read_at(fh: BinaryIO, offset: int, size: int) -> bytes:
    """Exactly ``size`` bytes at ``offset``. Offsets and sizes come from the file itself, so they are checked
    against its length before anything is allocated or sought."""
    end = fh.seek(0, io.SEEK_END)
    if offset < 0 or size < 0 or offset + size > end:
        raise ExeError(f"truncated: wanted {size} bytes at offset {offset}, file has {end}")
    fh.seek(offset)
    return fh.read(size)


def sections(fh: BinaryIO, fmt: str) -> list[Section]:
    """The section table; empty when the file has none (stripped section headers). Raises ExeError if cut."""
    if fmt == ELF:
        return _elf_sections(fh)
    if fmt == PE:
        return _pe_sections(fh)
    if fmt == MACHO:
        return _macho_sections(fh)
    return []


def find_section(secs: list[Section], *names: str) -> Section | None:
    for s in secs:
        if s.name in names:
            return s
    return None


def byte_order(fh: BinaryIO, fmt: str) -> str:
    """struct prefix for the file's endianness."""
    if fmt == ELF:
        return ">" if read_at(fh, 5, 1) == b"\x02" else "<"
    if fmt == MACHO:
        return ">" if read_at(fh, 0, 4) == b"\xfe\xed\xfa\xcf" else "<"
    return "<"


def _elf_sections(fh: BinaryIO) -> list[Section]:
    ident = read_at(fh, 0, 16)
    is64 = ident[4] == 2
    e = ">" if ident[5] == 2 else "<"
    header = read_at(fh, 0, 0x40 if is64 else 0x34)  # the whole ELF header in one read
    if is64:
        shoff, = struct.unpack_from(e + "Q", header, 0x28)
        shentsize, shnum, shstrndx = struct.unpack_from(e + "HHH", header, 0x3A)
    else:
        shoff, = struct.unpack_from(e + "I", header, 0x20)
        shentsize, shnum, shstrndx = struct.unpack_from(e + "HHH", header, 0x2E)
    if shoff == 0 or shnum == 0:
        return []
    if shentsize < (64 if is64 else 40) or shnum > 65535 or shstrndx >= shnum:
        raise ExeError(f"inconsistent ELF section header table (entsize {shentsize}, count {shnum})")
    table = read_at(fh, shoff, shentsize * shnum)
    # The fields read, padded to the standard entry size so that one iter_unpack walks the whole table.
    fmt = e + ("IIQQQQ16x" if is64 else "IIIIII16x")
    if shentsize == struct.calcsize(fmt):
        raw = [(n, a, o, sz, t) for n, t, _f, a, o, sz in struct.iter_unpack(fmt, table)]
    else:
        raw = []
        for i in range(shnum):
            name_off, typ, _flags, addr, offset, size = struct.unpack_from(fmt[:-3], table, i * shentsize)
            raw.append((name_off, addr, offset, size, typ))
    strtab_entry = raw[shstrndx]
    strtab = read_at(fh, strtab_entry[2], min(strtab_entry[3], 1 << 20))
    out = []
    for name_off, addr, offset, size, typ in raw:
        end = strtab.find(b"\0", name_off)
        # Interned: a scan keeps the tables of every executable (see probe) and they share a few dozen names.
        name = sys.intern(strtab[name_off:end if end >= 0 else None].decode("latin-1"))
        # SHT_NOBITS (.bss) occupies no file bytes.
        out.append(Section(name, offset, 0 if typ == 8 else size, addr))
    return out


def _pe_sections(fh: BinaryIO) -> list[Section]:
    lfanew, = struct.unpack("<I", read_at(fh, 0x3C, 4))
    if read_at(fh, lfanew, 4) != b"PE\0\0":
        return []  # a DOS stub or a random "MZ" file
    nsect, = struct.unpack("<H", read_at(fh, lfanew + 6, 2))
    opt_size, = struct.unpack("<H", read_at(fh, lfanew + 20, 2))
    table = read_at(fh, lfanew + 24 + opt_size, 40 * nsect)
    out = []
    for i in range(nsect):
        name, _vsize, vaddr, raw_size, raw_ptr = struct.unpack_from("<8sIIII", table, i * 40)
        out.append(Section(name.rstrip(b"\0").decode("latin-1"), raw_ptr, raw_size, vaddr))
    return out


def _macho_sections(fh: BinaryIO) -> list[Section]:
    e = byte_order(fh, MACHO)
    ncmds, sizeofcmds = struct.unpack(e + "II", read_at(fh, 16, 8))
    if sizeofcmds > 16 << 20:
        raise ExeError(f"Mach-O load commands of {sizeofcmds} bytes")
    cmds = read_at(fh, 32, sizeofcmds)
    out = []
    pos = 0
    for _ in range(ncmds):
        if pos + 8 > len(cmds):
            raise ExeError("Mach-O load commands cut")
        cmd, cmdsize = struct.unpack_from(e + "II", cmds, pos)
        if cmdsize < 8:
            raise ExeError(f"Mach-O load command of size {cmdsize}")
        if cmd == 0x19 and pos + 72 <= len(cmds):  # LC_SEGMENT_64
            nsects, = struct.unpack_from(e + "I", cmds, pos + 64)
            for j in range(nsects):
                at = pos + 72 + 80 * j
                if at + 80 > len(cmds):
                    raise ExeError("Mach-O section table cut")
                sect, _seg, addr, size, offset = struct.unpack_from(e + "16s16sQQI", cmds, at)
                out.append(Section(sect.rstrip(b"\0").decode("latin-1"), offset, size, addr))
        pos += cmdsize
    return out
