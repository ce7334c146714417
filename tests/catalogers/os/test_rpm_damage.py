"""Damaged rpm databases and hostile header blobs: every problem is a CatalogIssue with an offset, never a crash,
and the undamaged records still come out. Damaged copies are made in tmp_path from the read-only shared fixtures."""

from __future__ import annotations

import random
import shutil
import sqlite3
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vulnhound.catalogers.interface import CatalogContext, CatalogResult
from vulnhound.catalogers.rpm import RpmCataloger, split_source_rpm
from vulnhound.catalogers.rpm import header as h
from vulnhound.sources.interface import BytesView


def _run(data: bytes, view_path: str) -> CatalogResult:
    return RpmCataloger().catalog(BytesView({view_path: data}), [view_path], CatalogContext())


@pytest.fixture(scope="module")
def ndb(shared: Path) -> bytes:
    return (shared / "rpmdb-fixtures/sle15-bci/Packages.db").read_bytes()


@pytest.fixture(scope="module")
def bdb(shared: Path) -> bytes:
    return (shared / "rpmdb-fixtures/libuuid/Packages").read_bytes()


NDB_PATH = "usr/lib/sysimage/rpm/Packages.db"
BDB_PATH = "var/lib/rpm/Packages"
SQLITE_PATH = "var/lib/rpm/rpmdb.sqlite"


def test_ndb_truncated_keeps_the_packages_before_the_cut(ndb: bytes) -> None:
    r = _run(ndb[: len(ndb) // 2], NDB_PATH)
    assert 0 < len(r.packages) < 35
    assert r.issues and all(i.offset is not None and i.path == NDB_PATH for i in r.issues)
    assert len(r.packages) + len(r.issues) == 35  # one issue per lost package, nothing silently dropped


def test_ndb_garbage_blob_header_loses_only_that_package(ndb: bytes) -> None:
    _, blk_off, _ = struct.unpack_from("<III", ndb, 32 + 2 * 16 + 4)  # third slot
    start = blk_off * 16
    damaged = ndb[:start] + b"\xde\xad\xbe\xef" * 4 + ndb[start + 16 :]
    r = _run(damaged, NDB_PATH)
    assert len(r.packages) == 34
    assert [(i.offset, "bad blob header" in i.message) for i in r.issues] == [(start, True)]


def test_ndb_garbage_inside_header_blob_is_a_bad_header(ndb: bytes) -> None:
    _, blk_off, _ = struct.unpack_from("<III", ndb, 32 + 4)  # first slot
    start = blk_off * 16 + 16  # the blob's own 8-byte preamble (il, dl)
    damaged = ndb[:start] + b"\xff" * 8 + ndb[start + 8 :]
    r = _run(damaged, NDB_PATH)
    assert len(r.packages) == 34
    assert len(r.issues) == 1 and "bad header blob" in r.issues[0].message and r.issues[0].offset == start - 16


def test_ndb_bad_magic(ndb: bytes) -> None:
    r = _run(b"XXXX" + ndb[4:], NDB_PATH)
    assert r.packages == [] and r.issues[0].offset == 0 and "magic" in r.issues[0].message


def _bdb_pages(data: bytes, page_type: int) -> list[int]:
    size = struct.unpack_from("<I", data, 20)[0]
    return [n for n in range(1, len(data) // size) if data[n * size + 25] == page_type]


def test_bdb_broken_overflow_chain(bdb: bytes) -> None:
    size = struct.unpack_from("<I", bdb, 20)[0]
    overflow = _bdb_pages(bdb, 7)
    assert overflow
    page = overflow[0]
    damaged = bytearray(bdb)
    damaged[page * size + 25] = 0x55  # no longer an overflow page
    r = _run(bytes(damaged), BDB_PATH)
    assert r.packages == []
    assert len(r.issues) == 1 and r.issues[0].offset == page * size


def test_bdb_truncated(bdb: bytes) -> None:
    r = _run(bdb[:8192], BDB_PATH)
    assert r.packages == []
    assert r.issues and "truncated" in r.issues[0].message


def test_bdb_big_endian_and_btree_magic(bdb: bytes) -> None:
    btree = bdb[:12] + struct.pack("<I", 0x053162) + bdb[16:]
    r = _run(btree, BDB_PATH)
    assert r.packages == [] and "btree" in r.issues[0].message


@pytest.fixture
def sqlite_copy(shared: Path, tmp_path: Path) -> Path:
    dst = tmp_path / "rpmdb.sqlite"
    shutil.copyfile(shared / "rpmdb-fixtures/cbl-mariner-2.0/rpmdb.sqlite", dst)
    return dst


def test_sqlite_bad_blob_row(sqlite_copy: Path) -> None:
    with sqlite3.connect(sqlite_copy) as conn:
        conn.execute("UPDATE Packages SET blob = X'0000000100000010' WHERE hnum = 5")
        conn.execute("UPDATE Packages SET blob = 'text, not a blob' WHERE hnum = 7")
    conn.close()
    r = _run(sqlite_copy.read_bytes(), SQLITE_PATH)
    assert len(r.packages) == 127
    assert [i.offset for i in r.issues] == [5, 7]


def test_sqlite_truncated_or_garbage_pages_never_raise(sqlite_copy: Path) -> None:
    data = sqlite_copy.read_bytes()
    r = _run(data[: len(data) // 3], SQLITE_PATH)
    assert r.issues and all(i.path == SQLITE_PATH for i in r.issues)
    rnd = random.Random(3)
    garbage = bytearray(data)
    for page in (50, 300, 600):
        garbage[page * 4096 : (page + 1) * 4096] = bytes(rnd.randrange(256) for _ in range(4096))
    r = _run(bytes(garbage), SQLITE_PATH)
    assert len(r.packages) < 129 and r.issues


def _blob(entries: list[tuple[int, int, int, int]], data: bytes) -> bytes:
    return struct.pack(">II", len(entries), len(data)) + b"".join(struct.pack(">iIiI", *e) for e in entries) + data


@pytest.mark.parametrize(("blob", "offset"), [
    (b"", 0),
    (b"\0\0\0\0\0\0\0\0", 0),  # no entries
    (struct.pack(">II", 0x10000, 0), 0),  # more entries than rpm allows
    (struct.pack(">II", 1, 0x10000000), 4),  # more data than rpm allows
    (struct.pack(">II", 1000, 16), 0),  # claims more than the blob holds
    (_blob([(h.NAME, h.T_STRING, 0, 1)], b"abc"), 8),  # unterminated string
    (_blob([(h.NAME, h.T_STRING, 99, 1)], b"abc\0"), 8),  # offset outside the data
    (_blob([(h.NAME, h.T_STRING, -4, 1)], b"abc\0"), 8),  # negative offset
    (_blob([(h.NAME, 42, 0, 1)], b"abc\0"), 8),  # unknown type
    (_blob([(h.VERSION, h.T_STRING, 0, 1), (h.EPOCH, h.T_INT32, 1, 1)], b"1\0\0\0\0\0\0\1"), 24),  # misaligned
    (_blob([(h.BASENAMES, h.T_STRING_ARRAY, 0, 3)], b"a\0b\0"), 8),  # fewer strings than count
])
def test_hostile_header_blobs(blob: bytes, offset: int) -> None:
    with pytest.raises(h.HeaderError) as exc:
        h.parse_header(blob, h.PACKAGE_TAGS | h.FILE_TAGS)
    assert exc.value.offset == offset


def test_header_file_list_mismatch_is_an_issue_not_a_crash() -> None:
    data = b"pkg\x001.0\x00a\x00b\x00/usr/\x00" + b"\0" * 2 + struct.pack(">II", 0, 7)
    blob = _blob([
        (h.NAME, h.T_STRING, 0, 1), (h.VERSION, h.T_STRING, 4, 1),
        (h.BASENAMES, h.T_STRING_ARRAY, 8, 2), (h.DIRNAMES, h.T_STRING_ARRAY, 12, 1),
        (h.DIRINDEXES, h.T_INT32, 20, 2),
    ], data)
    hdr = h.parse_header(blob, h.PACKAGE_TAGS | h.FILE_TAGS)
    assert hdr.string(h.NAME) == "pkg" and hdr.integers(h.DIRINDEXES) == [0, 7]
    with pytest.raises(h.HeaderError):
        hdr.files()


@pytest.mark.parametrize(("filename", "expected"), [
    ("openssl-3.0.7-27.el9.src.rpm", ("openssl", "3.0.7-27.el9")),
    ("util-linux-2.32.1-42.el8_8.src.rpm", ("util-linux", "2.32.1-42.el8_8")),
    ("foo-1.0-1.nosrc.rpm", ("foo", "1.0-1")),
    ("(none)", (None, None)),
    ("broken.src.rpm", (None, None)),
    ("a-1.src.rpm", (None, None)),
])
def test_split_source_rpm(filename: str, expected: tuple[str | None, str | None]) -> None:
    assert split_source_rpm(filename) == expected


def test_one_database_per_root_sysimage_first(shared: Path, ndb: bytes, bdb: bytes) -> None:
    view = BytesView({NDB_PATH: ndb, BDB_PATH: bdb})
    r = RpmCataloger().catalog(view, [BDB_PATH, NDB_PATH], CatalogContext())
    assert len(r.packages) == 35
    assert [(i.path, i.severity) for i in r.issues] == [(BDB_PATH, "note")]


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=4096), st.sampled_from([b"RpmP\0\0\0\0\1\0\0\0\1\0\0\0", b""]))
def test_random_bytes_never_raise(noise: bytes, prefix: bytes) -> None:
    for path in (NDB_PATH, BDB_PATH, SQLITE_PATH):
        r = _run(prefix + noise, path)
        assert all(i.path == path for i in r.issues)
    try:
        h.parse_header(noise, h.PACKAGE_TAGS | h.FILE_TAGS).files()
    except h.HeaderError:
        pass


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_bit_flips_in_real_databases_never_raise(ndb: bytes, bdb: bytes, data: st.DataObject) -> None:
    for blob, path in ((ndb, NDB_PATH), (bdb, BDB_PATH)):
        damaged = bytearray(blob)
        for _ in range(data.draw(st.integers(1, 20))):
            damaged[data.draw(st.integers(0, len(blob) - 1))] = data.draw(st.integers(0, 255))
        r = _run(bytes(damaged), path)
        assert all(i.offset is not None for i in r.issues)
