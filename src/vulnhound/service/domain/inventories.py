"""Inventory snapshots, content-addressed per account: sha256 of the canonical JSON, stored once, zstd-compressed.

The hash leaves out ``stats`` and ``tool`` (timings, scanner version) so an unchanged host hashes the same.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa
import zstandard

from vulnhound.exports.inventory_json import from_wire, to_wire, validate
from vulnhound.inventory.model import Inventory
from vulnhound.service.db.tables import inventories
from vulnhound.service.domain.common import Invalid, now

MAX_ERRORS = 20


def parse(doc: Any) -> Inventory:
    """A validated inventory document as the domain model; Invalid with the schema errors otherwise."""
    errors = validate(doc)
    if errors:
        fields = [{"field": e.split(":", 1)[0], "message": e.split(":", 1)[-1].strip()} for e in errors[:MAX_ERRORS]]
        raise Invalid(f"the inventory document is not valid ({len(errors)} problem(s))", fields)
    return from_wire(doc)


def canonical(inv: Inventory) -> tuple[str, bytes]:
    doc = to_wire(inv, include_files=True)
    hashed = {k: v for k, v in doc.items() if k not in ("stats", "tool")}
    digest = hashlib.sha256(json.dumps(hashed, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
    return digest, json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def store(conn: sa.Connection, account_id: str, inv: Inventory) -> tuple[str, bool]:
    """(sha256, stored now?) — an inventory already held is not written again."""
    digest, data = canonical(inv)
    held = conn.execute(sa.select(inventories.c.sha256).where(
        inventories.c.account_id == account_id, inventories.c.sha256 == digest)).first()
    if held:
        return digest, False
    conn.execute(inventories.insert().values(
        account_id=account_id, sha256=digest, created_at=now(), size=len(data), packages=len(inv.packages),
        data=zstandard.ZstdCompressor(level=6).compress(data)))
    return digest, True


def load(conn: sa.Connection, account_id: str, digest: str) -> Inventory:
    data = conn.execute(sa.select(inventories.c.data).where(
        inventories.c.account_id == account_id, inventories.c.sha256 == digest)).scalar_one()
    return from_wire(json.loads(zstandard.ZstdDecompressor().decompress(data)))


def count(conn: sa.Connection, account_id: str) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(inventories)
                            .where(inventories.c.account_id == account_id)).scalar_one())
