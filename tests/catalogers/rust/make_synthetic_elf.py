"""Write the SYNTHETIC executables used as fixtures by the Rust and Go binary tests (run from anywhere:
``python tests/catalogers/rust/make_synthetic_elf.py``). They are minimal ELF64 files holding only the sections
the catalogers read: cargo-auditable's ``.dep-v0`` (no cargo-auditable binary can be built offline) and a
pre-Go-1.18 pointer-format ``.go.buildinfo`` (the installed Go toolchain only writes the inline format)."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
GO_CASES = HERE.parent / "golang" / "cases"
BASE = 0x400000


def build_elf(sections: list[tuple[str, bytes]], shoff_delta: int = 0) -> bytes:
    """ELF64 little-endian file: header, the sections' bytes (16-aligned), .shstrtab, the section table.
    Each section's address is BASE + its file offset. ``shoff_delta`` moves the table (to make it dangle)."""
    names = b"\0"
    name_offs = []
    for name, _ in [*sections, (".shstrtab", b"")]:
        name_offs.append(len(names))
        names += name.encode() + b"\0"
    body = bytearray(b"\0" * 64)
    placed = []
    for name, data in [*sections, (".shstrtab", names)]:
        body += b"\0" * (-len(body) % 16)
        placed.append((name, len(body), len(data)))
        body += data
    body += b"\0" * (-len(body) % 8)
    shoff = len(body)
    table = bytearray(b"\0" * 64)  # SHN_UNDEF
    for (_name, off, size), name_off in zip(placed, name_offs, strict=True):
        table += struct.pack("<IIQQQQIIQQ", name_off, 1, 2, BASE + off, off, size, 0, 0, 16, 0)
    shnum = len(placed) + 1
    header = b"\x7fELF\x02\x01\x01" + b"\0" * 9 + struct.pack(
        "<HHIQQQIHHHHHH", 2, 62, 1, BASE, 0, shoff + shoff_delta, 0, 64, 0, 0, 64, shnum, shnum - 1)
    body[:64] = header
    return bytes(body + table)


def auditable(doc: object) -> bytes:
    return build_elf([(".text", b"\x90" * 2048), (".dep-v0", zlib.compress(json.dumps(doc).encode()))])


def go_pointer_format(vers: str, mod: str) -> bytes:
    """A .go.buildinfo of the pre-1.18 layout: two pointers to Go string headers that live in .data."""
    data_off_guess = None
    for _ in range(2):  # section offsets depend on the sizes, which do not depend on the pointers: two passes
        vers_b, mod_b = vers.encode(), mod.encode()
        data_off = data_off_guess or 0
        hdrs = 32  # two string headers (ptr, len) of 16 bytes
        vers_addr = BASE + data_off + hdrs
        mod_addr = vers_addr + len(vers_b)
        data = struct.pack("<QQQQ", vers_addr, len(vers_b), mod_addr, len(mod_b)) + vers_b + mod_b
        info = b"\xff Go buildinf:" + bytes([8, 0]) + struct.pack("<QQ", BASE + data_off, BASE + data_off + 16)
        elf = build_elf([(".text", b"\x90" * 2048), (".go.buildinfo", info), (".data", data)])
        data_off_guess = elf.find(data)
    return elf


def sentinel_wrap(mod: str) -> str:
    return "0w\xaf\x0c\x92t\x08\x02A\xe1\xc1\x07\xe6\xd6\x18\xe6" + mod + "\xf92C1\x86\x18 r\x00\x82B\x10A\x16\xd8\xf2"


def go_inline_cut() -> bytes:
    """Go 1.18+ layout whose module string claims more bytes than the file holds."""
    info = b"\xff Go buildinf:" + bytes([8, 2]) + b"\0" * 16 + b"\x08go1.22.3" + b"\xff\x7f" + b"path\tx"
    return build_elf([(".text", b"\x90" * 2048), (".go.buildinfo", info)])


def write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    path.chmod(0o755)


def main() -> None:
    cases = HERE / "cases"
    write(cases / "auditable-normal" / "root" / "usr" / "local" / "bin" / "auditable-app", auditable({"packages": [
        {"name": "myapp", "version": "0.3.0", "source": "local", "dependencies": [1, 2, 3], "root": True},
        {"name": "serde", "version": "1.0.190", "source": "crates.io"},
        {"name": "regex", "version": "1.9.6", "source": "crates.io", "dependencies": [4]},
        {"name": "cc", "version": "1.0.83", "source": "crates.io", "kind": "build"},
        {"name": "memchr", "version": "2.6.4", "source": "git"},
    ]}))
    bad = cases / "auditable-corrupt" / "root" / "app"
    write(bad / "not-zlib", build_elf([(".text", b"\x90" * 2048), (".dep-v0", b"this is not zlib")]))
    write(bad / "not-json", build_elf([(".text", b"\x90" * 2048), (".dep-v0", zlib.compress(b"{nope"))]))
    write(bad / "bad-entries", auditable({"packages": [{"name": "ok", "version": "1.0.0", "source": "crates.io"},
                                                       {"name": 3}, "str"]}))
    write(bad / "dangling-table", auditable({"packages": []}) [:-40])
    write(cases / "auditable-bomb" / "root" / "bin" / "bomb", build_elf(
        [(".text", b"\x90" * 2048), (".dep-v0", zlib.compress(b" " * (32 << 20), 9))]))
    mod = ("path\texample.com/old\nmod\texample.com/old\t(devel)\t\n"
           "dep\tgithub.com/pkg/errors\tv0.9.1\th1:FEBLx1zS214owpjy7qsBeixbURkuhQAwrK5UwLGTwt4=\n"
           "dep\tgolang.org/x/text\tv0.3.0\t\n=>\tgolang.org/x/text\tv0.3.8\th1:abc=\n")
    write(GO_CASES / "binary-oldformat" / "root" / "usr" / "bin" / "oldgo",
          go_pointer_format("go1.16.15", sentinel_wrap(mod)))
    write(GO_CASES / "binary-cut" / "root" / "usr" / "bin" / "cut-inline", go_inline_cut())


if __name__ == "__main__":
    main()
