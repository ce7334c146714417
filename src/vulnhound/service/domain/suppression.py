"""Saved filters and suppression rules (Inspector's CreateFilter with action NONE or SUPPRESS).

A SUPPRESS rule takes effect at once: creating, editing or deleting one re-evaluates the account's open findings
and moves them between ACTIVE and SUPPRESSED in the same transaction, with history and an audit entry.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError

from vulnhound.service.db.tables import filters, findings
from vulnhound.service.domain.common import (
    Actor,
    Conflict,
    Invalid,
    audit,
    new_id,
    now,
    owned_row,
    parse_time,
)
from vulnhound.service.domain.criteria import FilterCriteria, where
from vulnhound.service.domain.lifecycle import _event, history
from vulnhound.service.events.outbox import emit_many, event_row

ACTIONS = ("NONE", "SUPPRESS")


def _wire(row: Any) -> dict[str, Any]:
    return {"filterId": row["id"], "name": row["name"], "action": row["action"], "filterCriteria": row["criteria"],
            "description": row["description"], "reason": row["reason"], "expiresAt": row["expires_at"],
            "createdAt": row["created_at"], "updatedAt": row["updated_at"]}


def _check(action: str, criteria: FilterCriteria, name: str) -> None:
    if action not in ACTIONS:
        raise Invalid(f"unknown action {action!r}: use NONE or SUPPRESS")
    if not name.strip():
        raise Invalid("a filter needs a name")
    if action == "SUPPRESS":
        if criteria.findingStatus:
            raise Invalid("a suppression rule cannot filter on findingStatus (it sets the status)")
        if criteria == FilterCriteria():
            raise Invalid("a suppression rule needs at least one criterion; it would suppress every finding")


def create(conn: sa.Connection, actor: Actor, name: str, action: str, criteria: FilterCriteria,
           description: str | None = None, reason: str | None = None, expires_at: str | None = None
           ) -> dict[str, Any]:
    actor.require_write()
    _check(action, criteria, name)
    if conn.execute(sa.select(filters.c.id).where(filters.c.account_id == actor.account_id,
                                                  filters.c.name == name)).first():
        raise Conflict(f"a filter named {name!r} exists")
    fid, when = new_id(), now()
    conn.execute(filters.insert().values(
        id=fid, account_id=actor.account_id, name=name, action=action,
        criteria=criteria.model_dump(exclude_defaults=True), description=description, reason=reason,
        expires_at=parse_time(expires_at) if expires_at else None, created_at=when, updated_at=when))
    moved = apply_rules(conn, actor.account_id) if action == "SUPPRESS" else {}
    audit(conn, actor, actor.account_id, "filter.create", fid, name=name, ruleAction=action, moved=moved)
    return {**get(conn, actor, fid), "findingsMoved": moved}


def get(conn: sa.Connection, actor: Actor, fid: str) -> dict[str, Any]:
    return _wire(owned_row(conn, filters, actor, fid, "filter"))


def list_all(conn: sa.Connection, actor: Actor, action: str | None = None, limit: int = 1000,
             after: str | None = None) -> list[dict[str, Any]]:
    """By name (unique per account); ``after``: the last name of the previous page."""
    q = sa.select(filters).where(filters.c.account_id == actor.account_id).order_by(filters.c.name).limit(limit)
    if action:
        q = q.where(filters.c.action == action)
    if after is not None:
        q = q.where(filters.c.name > after)
    return [_wire(r) for r in conn.execute(q).mappings()]


def update(conn: sa.Connection, actor: Actor, fid: str, changes: dict[str, Any]) -> dict[str, Any]:
    actor.require_write()
    cur = get(conn, actor, fid)
    name = changes.get("name") or cur["name"]
    action = changes.get("action") or cur["action"]
    criteria = changes.get("filterCriteria") or FilterCriteria.model_validate(cur["filterCriteria"])
    _check(action, criteria, name)
    values: dict[str, Any] = {"name": name, "action": action, "updated_at": now(),
                              "criteria": criteria.model_dump(exclude_defaults=True)}
    for key, col in (("description", "description"), ("reason", "reason")):
        if key in changes:
            values[col] = changes[key]
    if "expiresAt" in changes:
        values["expires_at"] = parse_time(changes["expiresAt"]) if changes["expiresAt"] else None
    conn.execute(sa.update(filters).where(filters.c.id == fid, filters.c.account_id == actor.account_id)
                 .values(**values))
    moved = apply_rules(conn, actor.account_id)
    audit(conn, actor, actor.account_id, "filter.update", fid, changes=sorted(changes), moved=moved)
    return {**get(conn, actor, fid), "findingsMoved": moved}


def delete(conn: sa.Connection, actor: Actor, fid: str) -> dict[str, int]:
    actor.require_write()
    get(conn, actor, fid)
    conn.execute(filters.delete().where(filters.c.id == fid, filters.c.account_id == actor.account_id))
    moved = apply_rules(conn, actor.account_id)
    audit(conn, actor, actor.account_id, "filter.delete", fid, moved=moved)
    return moved


def apply_rules(conn: sa.Connection, account_id: str, resource_id: str | None = None,
                scan_id: str | None = None) -> dict[str, int]:
    """Bring every open finding's status in line with the account's live SUPPRESS rules; counts of moves."""
    when = now()
    rules = conn.execute(sa.select(filters.c.id, filters.c.criteria).where(
        filters.c.account_id == account_id, filters.c.action == "SUPPRESS",
        sa.or_(filters.c.expires_at.is_(None), filters.c.expires_at > when)).order_by(filters.c.created_at,
                                                                                       filters.c.id)).all()
    scope = [findings.c.account_id == account_id, findings.c.status.in_(("ACTIVE", "SUPPRESSED"))]
    if resource_id is not None:
        scope.append(findings.c.resource_id == resource_id)
    target: dict[str, str] = {}
    for rule_id, raw in rules:
        try:
            crit = FilterCriteria.model_validate(raw)
        except ValidationError:
            continue  # stored by an older version with a field since removed: never widen, skip it
        for (fid,) in conn.execute(sa.select(findings.c.id).where(*scope, *where(crit))):
            target.setdefault(fid, rule_id)
    current = conn.execute(sa.select(findings.c.id, findings.c.status, findings.c.suppressed_by,
                                     findings.c.resource_id, findings.c.vulnerability_id).where(*scope)).all()
    moves, events = [], []
    for fid, status, by, rid, vid in current:
        rule = target.get(fid)
        new = "SUPPRESSED" if rule else "ACTIVE"
        if new != status or rule != by:
            moves.append({"b_id": fid, "status": new, "suppressed_by": rule, "updated_at": when})
            if new != status:
                events.append(_event(fid, account_id, rid, vid, when, status, new,
                                     "SUPPRESSION_RULE" if rule else "SUPPRESSION_LIFTED", scan_id, rule or by))
    if moves:
        conn.execute(sa.update(findings).where(findings.c.id == sa.bindparam("b_id")), moves)
    history(conn, events)
    _emit(conn, events)
    return {"suppressed": sum(1 for e in events if e["to_status"] == "SUPPRESSED"),
            "unsuppressed": sum(1 for e in events if e["to_status"] == "ACTIVE")}


def _emit(conn: sa.Connection, moved: list[dict[str, Any]]) -> None:
    """``vulnhound.finding.suppressed/unsuppressed``: the finding's wire form (after the move) plus the change,
    the shape of the lifecycle's finding events; subject = the resource, the per-resource ordering key."""
    from vulnhound.service.domain.queries import wire

    if not moved:
        return
    ids = [h["finding_id"] for h in moved]
    rows = {r["id"]: r for i in range(0, len(ids), 5000)  # SQLite caps bound parameters per statement
            for r in conn.execute(sa.select(findings).where(findings.c.id.in_(ids[i:i + 5000]))).mappings()}
    emit_many(conn, (event_row(
        h["account_id"], "vulnhound.finding.suppressed" if h["to_status"] == "SUPPRESSED"
        else "vulnhound.finding.unsuppressed", h["resource_id"],
        {**wire(rows[h["finding_id"]]), "change": {"cause": h["reason"], "reason": h["reason"],
                                                   "from": h["from_status"], "to": h["to_status"],
                                                   "ruleId": h["rule_id"], "scanId": h["scan_id"]}}, h["at"])
        for h in moved))
