"""Header blobs out of the three rpm database backends: sqlite (rpm ≥ 4.16), NDB (SUSE) and BerkeleyDB hash.

Each reader yields ``Blob``s in database order; damage becomes a ``Blob`` with an ``error`` and the reader goes on
with the next record when the format allows it. Pure Python, no librpm.
"""

from __future__ import annotations

import struct
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Blob:
    """One record: its position (sqlite row id, or byte offset in the file) and its bytes, or what went wrong."""

    offset: int
    data: bytes = b""
    error: str | None = None


# --- sqlite ------------------------------------------------------------------------------------------------------


def read_sqlite(path: str) -> Iterator[Blob]:
    """Rows of ``Packages(hnum, blob)``. Opened read-only and immutable: no journal, -wal or -shm files are made,
    so read-only media and shared fixtures stay untouched."""
    import sqlite3  # on first use: ~2 ms of start-up that only rpm images need

    uri = f"file:{urllib.parse.quote(path)}?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        yield Blob(0, error=f"cannot open sqlite database: {exc}")
        return
    try:
        last = 0
        try:
            cur = conn.execute("SELECT hnum, blob FROM Packages ORDER BY hnum")
            for hnum, blob in cur:
                last = int(hnum)
                if not isinstance(blob, bytes):
                    yield Blob(last, error=f"row {hnum}: blob is {type(blob).__name__}, not bytes")
                    continue
                yield Blob(last, blob)
        except sqlite3.Error as exc:
            # a damaged page ends the scan: sqlite cannot step past it
            yield Blob(last, error=f"sqlite error after row {last}: {exc}")
    finally:
        conn.close()


# --- NDB ---------------------------------------------------------------------------------------------------------
# rpm lib/backend/ndb/rpmpkg.c: little-endian; a 16-byte file header in slot page 0, then 16-byte slots
# (magic "Slot", package index, block offset, block count); blobs live in 16-byte blocks, each starting with
# magic "BlbS", package index, checksum, length.

NDB_MAGIC = b"RpmP"
NDB_SLOT_MAGIC = b"Slot"
NDB_BLOB_MAGIC = b"BlbS"
NDB_PAGE = 4096
NDB_BLOCK = 16
NDB_MAX_SLOT_PAGES = 2048  # rpm refuses more, and so does go-rpmdb: a sanity bound on memory


def read_ndb(data: bytes) -> Iterator[Blob]:
    if len(data) < 32 or data[:4] != NDB_MAGIC:
        yield Blob(0, error="not an NDB database (bad magic)")
        return
    version, _generation, slot_pages = struct.unpack_from("<III", data, 4)
    if version != 0 or not 0 < slot_pages <= NDB_MAX_SLOT_PAGES:
        yield Blob(4, error=f"unsupported NDB version {version} or slot page count {slot_pages}")
        return
    slots_end = min(slot_pages * NDB_PAGE, len(data))
    if slots_end < slot_pages * NDB_PAGE:
        yield Blob(len(data), error="file truncated inside the slot pages")
    # the first two slot-sized cells hold the file header
    for pos in range(32, slots_end - NDB_BLOCK + 1, NDB_BLOCK):
        magic = data[pos : pos + 4]
        pkg_idx, blk_off, blk_cnt = struct.unpack_from("<III", data, pos + 4)
        if magic != NDB_SLOT_MAGIC:
            yield Blob(pos, error="bad slot magic")
            continue
        if pkg_idx == 0:
            continue  # free slot
        yield _ndb_blob(data, pos, pkg_idx, blk_off * NDB_BLOCK, blk_cnt * NDB_BLOCK)


def _ndb_blob(data: bytes, slot_pos: int, pkg_idx: int, start: int, size: int) -> Blob:
    if start + 16 > len(data) or size < 16 + 12:
        return Blob(slot_pos, error=f"slot for package {pkg_idx} points past the end of the file")
    magic = data[start : start + 4]
    idx, _checksum, length = struct.unpack_from("<III", data, start + 4)
    if magic != NDB_BLOB_MAGIC or idx != pkg_idx:
        return Blob(start, error=f"bad blob header for package {pkg_idx}")
    # the blob is followed by a 12-byte tail (magic "BlbE") inside the same run of blocks
    if length > size - 16 - 12 or start + 16 + length > len(data):
        return Blob(start, error=f"blob of package {pkg_idx} overruns its blocks or the file")
    return Blob(start, data[start + 16 : start + 16 + length])


# --- BerkeleyDB hash ---------------------------------------------------------------------------------------------
# Berkeley DB 5.3 db_page.h: page 0 is the hash metadata page (magic 0x061561); hash pages (type 2 unsorted,
# 13 sorted) hold key/data item pairs through a uint16 index after the 26-byte page header; rpm's header blobs
# are always "off page" items (type 3) pointing at a chain of overflow pages (type 7).

BDB_HASH_MAGIC = 0x061561
BDB_BTREE_MAGIC = 0x053162
P_HASH_UNSORTED, P_OVERFLOW, P_HASH = 2, 7, 13
H_OFFPAGE = 3
PAGE_HEADER = 26


def read_bdb(data: bytes) -> Iterator[Blob]:
    if len(data) < 72:
        yield Blob(0, error="file shorter than a BerkeleyDB metadata page")
        return
    order = "<"
    magic = struct.unpack_from("<I", data, 12)[0]
    if magic not in (BDB_HASH_MAGIC, BDB_BTREE_MAGIC):
        order = ">"
        magic = struct.unpack_from(">I", data, 12)[0]
    if magic == BDB_BTREE_MAGIC:
        yield Blob(12, error="BerkeleyDB btree database: only the hash format rpm uses is supported")
        return
    if magic != BDB_HASH_MAGIC:
        yield Blob(12, error="not a BerkeleyDB hash database (bad magic)")
        return
    page_size = struct.unpack_from(f"{order}I", data, 20)[0]
    encrypted = data[24]
    if page_size < 512 or page_size > 65536 or page_size & (page_size - 1):
        yield Blob(20, error=f"bad page size {page_size}")
        return
    if encrypted:
        yield Blob(24, error="encrypted BerkeleyDB database")
        return
    last_pgno = struct.unpack_from(f"{order}I", data, 32)[0]
    npages = len(data) // page_size
    if last_pgno + 1 > npages:
        yield Blob(len(data), error=f"file truncated: metadata says {last_pgno + 1} pages, file holds {npages}")
    for pgno in range(1, min(last_pgno + 1, npages)):
        start = pgno * page_size
        page_type = data[start + 25]
        if page_type not in (P_HASH, P_HASH_UNSORTED):
            continue
        yield from _hash_page(data, start, page_size, npages, order)


def _hash_page(data: bytes, start: int, page_size: int, npages: int, order: str) -> Iterator[Blob]:
    entries = struct.unpack_from(f"{order}H", data, start + 20)[0]
    if PAGE_HEADER + 2 * entries > page_size:
        yield Blob(start, error=f"hash page claims {entries} entries")
        return
    offsets = struct.unpack_from(f"{order}{entries}H", data, start + PAGE_HEADER)
    # items alternate key, data; only data items carry header blobs
    for off in offsets[1::2]:
        item = start + off
        if off >= page_size or item + 12 > len(data):
            yield Blob(start, error=f"hash item offset {off} outside its page")
            continue
        if data[item] != H_OFFPAGE:
            continue  # on-page data: rpm's record-number bookkeeping, not a header
        pgno, length = struct.unpack_from(f"{order}II", data, item + 4)
        yield _overflow_chain(data, item, pgno, length, page_size, npages, order)


def _overflow_chain(data: bytes, item: int, pgno: int, length: int, page_size: int, npages: int,
                    order: str) -> Blob:
    parts: list[bytes] = []
    got = 0
    seen: set[int] = set()
    while pgno != 0 and got < length:
        if pgno >= npages or pgno in seen:
            return Blob(item, error=f"overflow chain reaches bad or repeated page {pgno}")
        seen.add(pgno)
        start = pgno * page_size
        if data[start + 25] != P_OVERFLOW:
            return Blob(start, error=f"page {pgno} in an overflow chain is not an overflow page")
        next_pgno = struct.unpack_from(f"{order}I", data, start + 16)[0]
        # on overflow pages the "free area offset" field counts the bytes used on the page
        used = struct.unpack_from(f"{order}H", data, start + 22)[0]
        chunk = data[start + PAGE_HEADER : start + PAGE_HEADER + min(used, page_size - PAGE_HEADER)]
        parts.append(chunk)
        got += len(chunk)
        pgno = next_pgno
    if got < length:
        return Blob(item, error=f"overflow chain holds {got} of {length} bytes")
    return Blob(item, b"".join(parts)[:length])
