"""Scans: an uploaded inventory (the push path agents use) or a target the server collects itself, then match,
then the finding lifecycle, then coverage, the package-key index and the events, in one transaction. ``run_scan``
is the unit of work a job executor runs.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from vulnhound.findings.model import Finding, FindingType
from vulnhound.inventory.model import Inventory
from vulnhound.matching.index import AdvisoryIndex
from vulnhound.service.continuous import keyindex
from vulnhound.service.db.tables import findings, resources, scans
from vulnhound.service.domain import inventories
from vulnhound.service.domain import resources as res
from vulnhound.service.domain.common import Actor, Forbidden, Invalid, audit, new_id, now, owned_row
from vulnhound.service.domain.lifecycle import ingest
from vulnhound.service.domain.suppression import apply_rules
from vulnhound.service.events.outbox import emit

STALE_AFTER = dt.timedelta(days=7)
PATH_PREFIXES = ("dir", "oci-dir", "oci-archive", "docker-archive", "zip", "function", "sbom")


def _wire(row: Any) -> dict[str, Any]:
    return {"scanId": row["id"], "resourceId": row["resource_id"], "kind": row["kind"], "target": row["target"],
            "status": row["status"], "reason": row["reason"], "createdAt": row["created_at"],
            "startedAt": row["started_at"], "finishedAt": row["finished_at"],
            "inventorySha256": row["inventory_sha256"], "stats": row["stats"]}


def _insert(conn: sa.Connection, actor: Actor, rid: str, kind: str, target: str | None, digest: str | None) -> str:
    sid = new_id()
    # The coverage before the scan: the end of the scan emits coverage.changed only when it really changed.
    before = conn.execute(sa.select(resources.c.scan_status, resources.c.scan_reason).where(
        resources.c.id == rid)).first()
    stats = {"coverageBefore": list(before)} if before else {}
    conn.execute(scans.insert().values(id=sid, account_id=actor.account_id, resource_id=rid, kind=kind, target=target,
                                       status="QUEUED", created_at=now(), inventory_sha256=digest, stats=stats))
    conn.execute(sa.update(resources).where(resources.c.id == rid).values(
        scan_status="PENDING", scan_reason="SCAN_IN_PROGRESS", scan_message=None))
    audit(conn, actor, actor.account_id, "scan.create", sid, resourceId=rid, kind=kind)
    return sid


def create_push(conn: sa.Connection, actor: Actor, rid: str, doc: Any) -> str:
    """Queue a scan of an uploaded inventory document; it is validated and stored (once) right away."""
    actor.require_write()
    res.row_of(conn, actor, rid)
    inv = inventories.parse(doc)
    digest, _ = inventories.store(conn, actor.account_id, inv)
    return _insert(conn, actor, rid, "PUSH", None, digest)


def check_target(target: str, roots: tuple[Path, ...]) -> None:
    """Server-side collection reads the server's disk: only below configured roots, only file-based kinds."""
    if not roots:
        raise Forbidden("server-side scanning is disabled: start the server with --scan-root DIR, or upload an "
                        "inventory instead")
    head, sep, rest = target.partition(":")
    if not sep or head not in PATH_PREFIXES:
        raise Invalid(f"target must be PREFIX:PATH with PREFIX one of {', '.join(PATH_PREFIXES)}")
    path = Path(rest).resolve()
    if not any(path == r.resolve() or path.is_relative_to(r.resolve()) for r in roots):
        raise Forbidden(f"{rest} is outside the server's scan roots")


def create_target(conn: sa.Connection, actor: Actor, rid: str, target: str, roots: tuple[Path, ...]) -> str:
    actor.require_write()
    res.row_of(conn, actor, rid)
    check_target(target, roots)
    return _insert(conn, actor, rid, "TARGET", target, None)


def get(conn: sa.Connection, actor: Actor, sid: str) -> dict[str, Any]:
    return _wire(owned_row(conn, scans, actor, sid, "scan"))


def list_for(conn: sa.Connection, actor: Actor, rid: str | None = None, limit: int = 100,
             after: list[Any] | None = None) -> list[dict[str, Any]]:
    """Newest first; ``after``: the (createdAt, scanId) of the last row of the previous page."""
    q = sa.select(scans).where(scans.c.account_id == actor.account_id)
    if rid:
        q = q.where(scans.c.resource_id == rid)
    if after:
        q = q.where(sa.or_(scans.c.created_at < after[0],
                           sa.and_(scans.c.created_at == after[0], scans.c.id > after[1])))
    return [_wire(r) for r in conn.execute(q.order_by(scans.c.created_at.desc(), scans.c.id).limit(limit)).mappings()]


def _collect(target: str) -> Inventory:
    from vulnhound.inventory.build import build_inventory
    from vulnhound.sources.resolve import open_source

    with open_source(target) as src:
        return build_inventory(src)


def coverage_of(inv: Inventory, found: list[Finding]) -> tuple[str, str, str | None]:
    if inv.os is not None and not inv.os.supported:
        return "INACTIVE", "UNSUPPORTED_OS", f"{inv.os.pretty_name or inv.os.id}: no advisory source for this OS"
    eol = [f for f in found if f.type == FindingType.CONFIGURATION and "endOfLife" in f.details]
    if eol:
        return "ACTIVE", "EOL_OS", eol[0].title
    return "ACTIVE", "SUCCESSFUL", None


def _coverage_event(conn: sa.Connection, scan: Any, code: str, reason: str, message: str | None) -> None:
    before = (scan["stats"] or {}).get("coverageBefore")
    if before is None or tuple(before) != (code, reason):
        emit(conn, scan["account_id"], "vulnhound.coverage.changed", scan["resource_id"], {
            "resourceId": scan["resource_id"], "scanId": scan["id"],
            "from": None if before is None else {"statusCode": before[0], "reason": before[1]},
            "to": {"statusCode": code, "reason": reason, "message": message}})


def _fail(engine: sa.Engine, scan: Any, message: str) -> None:
    sid, rid = scan["id"], scan["resource_id"]
    with engine.begin() as conn:
        conn.execute(sa.update(scans).where(scans.c.id == sid).values(status="FAILED", reason=message,
                                                                      finished_at=now()))
        live = conn.execute(sa.update(resources).where(resources.c.id == rid, resources.c.deleted_at.is_(None)).values(
            scan_status="FAILED", scan_reason="SCAN_FAILED", scan_message=message)).rowcount
        emit(conn, scan["account_id"], "vulnhound.scan.failed", rid,
             {"scanId": sid, "resourceId": rid, "kind": scan["kind"], "reason": message})
        if live:
            _coverage_event(conn, scan, "FAILED", "SCAN_FAILED", message)


def run_scan(engine: sa.Engine, index: Callable[[], AdvisoryIndex], scan_id: str) -> None:
    """Run one queued scan to COMPLETED or FAILED (with the reason). Safe to call again on a finished scan."""
    from vulnhound.matching.matcher import match_inventory

    with engine.begin() as conn:
        scan = conn.execute(sa.select(scans).where(scans.c.id == scan_id)).mappings().one()
        if scan["status"] in ("COMPLETED", "FAILED"):
            return
        conn.execute(sa.update(scans).where(scans.c.id == scan_id).values(status="RUNNING", started_at=now()))
    account_id, rid = scan["account_id"], scan["resource_id"]
    try:
        idx = index()
        if scan["kind"] == "TARGET":
            inv = _collect(scan["target"])
        else:
            with engine.connect() as conn:
                inv = inventories.load(conn, account_id, scan["inventory_sha256"])
        result = match_inventory(inv, idx, rid)
    except Exception as exc:  # a bad target or a broken knowledge base fails this scan, not the server
        _fail(engine, scan, f"{type(exc).__name__}: {exc}")
        return
    with engine.begin() as conn:
        resource = conn.execute(sa.select(resources).where(resources.c.id == rid)).mappings().one()
        if resource["deleted_at"] is not None:
            conn.execute(sa.update(scans).where(scans.c.id == scan_id).values(
                status="FAILED", reason="the resource was deleted during the scan", finished_at=now()))
            return
        digest = scan["inventory_sha256"] or inventories.store(conn, account_id, inv)[0]
        when = now()
        changes = ingest(conn, account_id, rid, resource["type"], result.findings, inv, idx, scan_id, when)
        moved = apply_rules(conn, account_id, rid, scan_id)
        keyindex.replace(conn, account_id, rid, keyindex.package_keys(inv, idx))
        code, reason, message = coverage_of(inv, result.findings)
        conn.execute(sa.update(resources).where(resources.c.id == rid).values(
            scan_status=code, scan_reason=reason, scan_message=message, last_scanned_at=when,
            inventory_sha256=digest))
        stats = {**changes.counts(), **moved, "packages": len(inv.packages), "findings": len(result.findings),
                 "unmatched": len(result.unmatched), "warnings": result.warnings[:20]}
        conn.execute(sa.update(scans).where(scans.c.id == scan_id).values(
            status="COMPLETED", finished_at=now(), inventory_sha256=digest, stats=stats))
        severities = {str(sev): int(n) for sev, n in conn.execute(sa.select(findings.c.severity, sa.func.count())
                      .where(findings.c.account_id == account_id, findings.c.resource_id == rid,
                             findings.c.status == "ACTIVE").group_by(findings.c.severity))}
        emit(conn, account_id, "vulnhound.scan.completed", rid, {
            "scanId": scan_id, "resourceId": rid, "kind": scan["kind"], "inventorySha256": digest,
            "severityCounts": {"all": sum(severities.values()), **{k.lower(): int(v) for k, v in severities.items()}},
            "changes": changes.counts()})
        _coverage_event(conn, scan, code, reason, message)
