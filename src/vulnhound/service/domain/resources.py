"""Resources: hosts, container images (repository + digest + tags), function packages, SBOM-only; with tags.

Deleting a resource is soft (``deleted_at``): its findings close with RESOURCE_DELETED and their history stays.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from vulnhound.service.db.tables import resource_tags, resources
from vulnhound.service.domain.common import Actor, Conflict, Invalid, audit, new_id, now, owned_row

TYPES = ("HOST", "CONTAINER_IMAGE", "FUNCTION", "SBOM")
MAX_TAGS = 50


def identity_of(rtype: str, name: str, details: dict[str, Any]) -> str:
    if rtype not in TYPES:
        raise Invalid(f"unknown resource type {rtype!r}: use one of {', '.join(TYPES)}")
    if not name.strip():
        raise Invalid("a resource needs a name (host name, image repository, function name)")
    identity = f"{name}@{details['imageDigest']}" if rtype == "CONTAINER_IMAGE" and details.get("imageDigest") else name
    if len(identity) > 700:  # the column's width: PostgreSQL would refuse it
        raise Invalid("name and imageDigest together may have at most 700 characters")
    return identity


def _check_tags(tags: dict[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        raise Invalid(f"at most {MAX_TAGS} tags")
    for k, v in tags.items():
        if not 1 <= len(k) <= 128 or len(v) > 256:
            raise Invalid(f"tag {k!r}: keys are 1-128 characters, values at most 256")


def _tags(conn: sa.Connection, ids: list[str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {i: {} for i in ids}
    if ids:
        for r in conn.execute(sa.select(resource_tags).where(resource_tags.c.resource_id.in_(ids))):
            out[r.resource_id][r.key] = r.value
    return out


def wire(row: Any, tags: dict[str, str]) -> dict[str, Any]:
    return {"resourceId": row["id"], "type": row["type"], "name": row["name"], "details": row["details"],
            "tags": tags, "createdAt": row["created_at"], "deletedAt": row["deleted_at"],
            "scanStatus": {"statusCode": row["scan_status"], "reason": row["scan_reason"],
                           "message": row["scan_message"]},
            "lastScannedAt": row["last_scanned_at"], "inventorySha256": row["inventory_sha256"]}


def create(conn: sa.Connection, actor: Actor, rtype: str, name: str, details: dict[str, Any] | None = None,
           tags: dict[str, str] | None = None) -> dict[str, Any]:
    actor.require_write()
    details = details or {}
    tags = tags or {}
    identity = identity_of(rtype, name, details)
    _check_tags(tags)
    live = sa.and_(resources.c.account_id == actor.account_id, resources.c.type == rtype,
                   resources.c.identity == identity, resources.c.deleted_at.is_(None))
    if conn.execute(sa.select(resources.c.id).where(live)).first():
        raise Conflict(f"a {rtype} resource {identity!r} exists")
    rid = new_id()
    conn.execute(resources.insert().values(
        id=rid, account_id=actor.account_id, type=rtype, name=name, identity=identity, details=details,
        created_at=now(), scan_status="PENDING", scan_reason="PENDING_INITIAL_SCAN"))
    if tags:
        conn.execute(resource_tags.insert(), [{"resource_id": rid, "key": k, "value": v} for k, v in tags.items()])
    audit(conn, actor, actor.account_id, "resource.create", rid, type=rtype, name=name)
    return get(conn, actor, rid)


def row_of(conn: sa.Connection, actor: Actor, rid: str, include_deleted: bool = False) -> Any:
    live = () if include_deleted else (resources.c.deleted_at.is_(None),)
    return owned_row(conn, resources, actor, rid, "resource", *live)


def get(conn: sa.Connection, actor: Actor, rid: str) -> dict[str, Any]:
    row = row_of(conn, actor, rid, include_deleted=True)
    return wire(row, _tags(conn, [rid])[rid])


def list_all(conn: sa.Connection, actor: Actor, rtype: str | None = None, include_deleted: bool = False,
             limit: int = 1000, after: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
    q = sa.select(resources).where(resources.c.account_id == actor.account_id).order_by(resources.c.id).limit(limit)
    if rtype:
        q = q.where(resources.c.type == rtype)
    if name is not None:
        q = q.where(resources.c.name == name)
    if not include_deleted:
        q = q.where(resources.c.deleted_at.is_(None))
    if after:
        q = q.where(resources.c.id > after)
    rows = list(conn.execute(q).mappings())
    tags = _tags(conn, [r["id"] for r in rows])
    return [wire(r, tags[r["id"]]) for r in rows]


def set_tags(conn: sa.Connection, actor: Actor, rid: str, tags: dict[str, str]) -> dict[str, Any]:
    actor.require_write()
    row_of(conn, actor, rid)
    _check_tags(tags)
    conn.execute(resource_tags.delete().where(resource_tags.c.resource_id == rid))
    if tags:
        conn.execute(resource_tags.insert(), [{"resource_id": rid, "key": k, "value": v} for k, v in tags.items()])
    audit(conn, actor, actor.account_id, "resource.tags", rid, tags=tags)
    return get(conn, actor, rid)


def delete(conn: sa.Connection, actor: Actor, rid: str) -> None:
    from vulnhound.service.domain.lifecycle import close_all

    actor.require_write()
    row_of(conn, actor, rid)
    when = now()
    conn.execute(sa.update(resources).where(resources.c.id == rid).values(
        deleted_at=when, scan_status="INACTIVE", scan_reason="RESOURCE_TERMINATED"))
    closed = close_all(conn, actor.account_id, rid, "RESOURCE_DELETED", when)
    audit(conn, actor, actor.account_id, "resource.delete", rid, findingsClosed=closed)
