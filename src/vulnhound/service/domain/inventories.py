"""Inventory snapshots, content-addressed per account: sha256 of the canonical JSON, stored once, zstd-compressed.

The hash leaves out ``stats`` and ``tool`` (timings, scanner version) so an unchanged host hashes the same.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from functools import cache
from typing import Any

import sqlalchemy as sa
import sqlalchemy.dialects.postgresql
import sqlalchemy.dialects.sqlite
import zstandard

from vulnhound.exports.inventory_json import from_wire, schema, to_wire, validate
from vulnhound.inventory.model import Inventory
from vulnhound.service.db.tables import inventories
from vulnhound.service.domain.common import Invalid, now

MAX_ERRORS = 20


@cache
def _fast_validator() -> Any:
    import jsonschema_rs

    return jsonschema_rs.validator_for(schema())


def parse(doc: Any) -> Inventory:
    """A validated inventory document as the domain model; Invalid with the schema errors otherwise."""
    # The compiled (Rust) validator answers "valid?" in ~1 ms where the pure-Python one takes ~250 ms for a host
    # of 350 packages (most of an upload's cost); only invalid documents go through the Python validator, whose
    # messages and paths the API has always reported.
    errors = [] if _fast_validator().is_valid(doc) else validate(doc)
    if errors:
        fields = [{"field": e.split(":", 1)[0], "message": e.split(":", 1)[-1].strip()} for e in errors[:MAX_ERRORS]]
        raise Invalid(f"the inventory document is not valid ({len(errors)} problem(s))", fields)
    return from_wire(doc)


def canonical(inv: Inventory) -> tuple[str, bytes]:
    """(sha256 of the document without ``stats``/``tool``, the whole document): both compact with sorted keys.

    Each top-level member is serialized once and the two texts are joined from the pieces, byte-identical to two
    ``json.dumps(..., sort_keys=True)`` calls at half the cost (the packages are most of an upload's bytes).
    """
    doc = to_wire(inv, include_files=True)
    parts = [(k, json.dumps(k) + ":" + json.dumps(doc[k], sort_keys=True, separators=(",", ":"))) for k in sorted(doc)]
    hashed = "{" + ",".join(p for k, p in parts if k not in ("stats", "tool")) + "}"
    digest = hashlib.sha256(hashed.encode()).hexdigest()
    return digest, ("{" + ",".join(p for _, p in parts) + "}").encode()


def store(conn: sa.Connection, account_id: str, inv: Inventory) -> tuple[str, bool]:
    """(sha256, stored now?) — an inventory already held is not written again."""
    digest, data = canonical(inv)
    held = conn.execute(sa.select(inventories.c.sha256).where(
        inventories.c.account_id == account_id, inventories.c.sha256 == digest)).first()
    _remember(account_id, digest, inv)
    if held:
        return digest, False
    # Two scans may store the same snapshot at once: the loser's insert is a no-op, not a duplicate-key error.
    insert = (sa.dialects.postgresql.insert if conn.dialect.name == "postgresql" else sa.dialects.sqlite.insert)
    conn.execute(insert(inventories).values(
        account_id=account_id, sha256=digest, created_at=now(), size=len(data), packages=len(inv.packages),
        data=zstandard.ZstdCompressor(level=3).compress(data),  # level 3: 5x faster than 6, ~10 % larger
    ).on_conflict_do_nothing(index_elements=["account_id", "sha256"]))
    return digest, True


# The scan that follows an upload loads the snapshot just stored: a few recent ones stay parsed in memory.
# Snapshots are content-addressed, so an entry can never be stale; another process simply misses.
_RECENT: OrderedDict[tuple[str, str], Inventory] = OrderedDict()
_RECENT_MAX = 32
_RECENT_LOCK = threading.Lock()


def _remember(account_id: str, digest: str, inv: Inventory) -> None:
    with _RECENT_LOCK:
        _RECENT[(account_id, digest)] = inv
        _RECENT.move_to_end((account_id, digest))
        while len(_RECENT) > _RECENT_MAX:
            _RECENT.popitem(last=False)


def load(conn: sa.Connection, account_id: str, digest: str) -> Inventory:
    with _RECENT_LOCK:
        recent = _RECENT.get((account_id, digest))
    if recent is not None:
        return recent
    data = conn.execute(sa.select(inventories.c.data).where(
        inventories.c.account_id == account_id, inventories.c.sha256 == digest)).scalar_one()
    return from_wire(json.loads(zstandard.ZstdDecompressor().decompress(data)))


def count(conn: sa.Connection, account_id: str) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(inventories)
                            .where(inventories.c.account_id == account_id)).scalar_one())
