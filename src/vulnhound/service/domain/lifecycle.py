"""The finding lifecycle: a scan's match result opens, refreshes, closes (with the reason) and reopens findings.

A finding's id is stable per (account, resource, vulnerability group, package instance), so a vulnerability that
comes back after being closed reopens under the same id. Every status change is a ``finding_history`` row; that
history answers "was resource R exposed to X at time T?".
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from vulnhound.exports.findings_json import finding_to_wire
from vulnhound.findings.model import Finding, FindingType
from vulnhound.inventory.model import Inventory
from vulnhound.matching.index import AdvisoryIndex
from vulnhound.service.db.tables import finding_history, findings

OPEN = ("ACTIVE", "SUPPRESSED")
CLOSE_REASONS = ("PACKAGE_UPGRADED", "PACKAGE_REMOVED", "ADVISORY_WITHDRAWN", "NO_LONGER_AFFECTED",
                 "RESOURCE_DELETED", "NOT_OBSERVED")
_SEVERITY_RANK = {"UNTRIAGED": 0, "INFORMATIONAL": 1, "LOW": 2, "MEDIUM": 3, "HIGH": 4, "CRITICAL": 5}


@dataclass(slots=True)
class IngestResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    reopened: list[str] = field(default_factory=list)
    closed: dict[str, str] = field(default_factory=dict)  # id -> reason

    def counts(self) -> dict[str, int]:
        return {"created": len(self.created), "updated": len(self.updated), "reopened": len(self.reopened),
                "closed": len(self.closed)}


def service_id(account_id: str, matcher_id: str) -> str:
    # The matcher's id already hashes (resource, group, package instance); the account makes it tenant-unique.
    return hashlib.sha256(f"{account_id}\x00{matcher_id}".encode()).hexdigest()[:32]


def columns(f: Finding) -> dict[str, Any]:
    """The indexed columns of a finding; everything else stays in ``detail`` (its wire form)."""
    wire = finding_to_wire(f)
    pkg = f.package.vulnerable_packages[0] if f.package and f.package.vulnerable_packages else None
    return {
        "type": f.type.value, "title": f.title[:1024], "severity": f.severity.value,
        "severity_rank": _SEVERITY_RANK.get(f.severity.value, 0),
        "vulnerability_id": f.package.vulnerability_id if f.package else (f.details.get("checkId") or None),
        "vulnerability_source": f.package.source if f.package else f.severity_source,
        "package_name": pkg.name if pkg else None, "package_version": pkg.version if pkg else None,
        "layer_hash": pkg.source_layer_hash if pkg else None,
        "fix_available": f.fix_available.value, "exploit_available": f.exploit_available,
        "epss_score": float(f.epss["score"]) if f.epss and f.epss.get("score") is not None else -1.0,
        "risk_score": f.risk_score, "detail": wire,
    }


def _material(row: Any) -> tuple[Any, ...]:
    return (row["severity"], round(float(row["risk_score"]), 4), row["fix_available"], bool(row["exploit_available"]),
            round(float(row["epss_score"]), 6))


def history(conn: sa.Connection, rows: Iterable[dict[str, Any]]) -> None:
    batch = list(rows)
    if batch:
        conn.execute(finding_history.insert(), batch)


def _event(fid: str, account_id: str, resource_id: str, vid: str | None, at: str, old: str | None, new: str,
           reason: str, scan_id: str | None = None, rule_id: str | None = None) -> dict[str, Any]:
    return {"finding_id": fid, "account_id": account_id, "resource_id": resource_id, "vulnerability_id": vid,
            "at": at, "from_status": old, "to_status": new, "reason": reason, "scan_id": scan_id, "rule_id": rule_id}


def ingest(conn: sa.Connection, account_id: str, resource_id: str, resource_type: str, found: list[Finding],
           inv: Inventory, index: AdvisoryIndex, scan_id: str | None, when: str) -> IngestResult:
    """Apply one complete observation of a resource; suppression rules are applied by the caller afterwards."""
    result = IngestResult()
    existing = {r["id"]: r for r in conn.execute(sa.select(
        findings.c.id, findings.c.status, findings.c.severity, findings.c.risk_score, findings.c.fix_available,
        findings.c.exploit_available, findings.c.epss_score, findings.c.vulnerability_id, findings.c.package_name,
        findings.c.package_version, findings.c.type, findings.c.detail, findings.c.updated_at).where(
        findings.c.account_id == account_id, findings.c.resource_id == resource_id)).mappings()}
    seen: dict[str, dict[str, Any]] = {}
    for f in found:
        seen.setdefault(service_id(account_id, f.id), columns(f))
    inserts, updates, events = [], [], []
    for fid, cols in seen.items():
        old = existing.get(fid)
        if old is None:
            inserts.append({**cols, "id": fid, "account_id": account_id, "resource_id": resource_id,
                            "resource_type": resource_type, "status": "ACTIVE", "first_observed_at": when,
                            "last_observed_at": when, "updated_at": when})
            events.append(_event(fid, account_id, resource_id, cols["vulnerability_id"], when, None, "ACTIVE",
                                 "CREATED", scan_id))
            result.created.append(fid)
            continue
        reopen = old["status"] == "CLOSED"
        changed = reopen or _material(old) != _material(cols)
        updates.append({**cols, "b_id": fid, "status": "ACTIVE" if reopen else old["status"],
                        "last_observed_at": when, "updated_at": when if changed else old["updated_at"],
                        "closed_at": None, "closed_reason": None})
        if reopen:
            events.append(_event(fid, account_id, resource_id, cols["vulnerability_id"], when, "CLOSED", "ACTIVE",
                                 "REOPENED", scan_id))
            result.reopened.append(fid)
        else:
            result.updated.append(fid)
    if inserts:
        conn.execute(findings.insert(), inserts)
    if updates:
        conn.execute(sa.update(findings).where(findings.c.id == sa.bindparam("b_id")), updates)
    gone = [r for fid, r in existing.items() if fid not in seen and r["status"] in OPEN]
    reasons = close_reasons(gone, inv, index)
    for r in gone:
        result.closed[r["id"]] = reasons[r["id"]]
    _close(conn, account_id, resource_id, [(r["id"], r["status"], r["vulnerability_id"]) for r in gone],
           reasons, when, scan_id)
    history(conn, events)
    return result


def close_reasons(gone: list[Any], inv: Inventory, index: AdvisoryIndex) -> dict[str, str]:
    """Why each finding no longer shows: withdrawn advisory, upgraded or removed package, or changed advisory."""
    versions: dict[str, set[str]] = {}
    for p in inv.packages:
        versions.setdefault(p.name, set()).add(p.version)
    withdrawn = _withdrawn(gone, index)
    out: dict[str, str] = {}
    for r in gone:
        if r["type"] != FindingType.PACKAGE_VULNERABILITY.value:
            out[r["id"]] = "NOT_OBSERVED"
        elif r["id"] in withdrawn:
            out[r["id"]] = "ADVISORY_WITHDRAWN"
        elif r["package_name"] not in versions:
            out[r["id"]] = "PACKAGE_REMOVED"
        elif versions[r["package_name"]] - {r["package_version"]}:
            out[r["id"]] = "PACKAGE_UPGRADED"
        else:
            out[r["id"]] = "NO_LONGER_AFFECTED"
    return out


def _withdrawn(gone: list[Any], index: AdvisoryIndex) -> set[str]:
    """Findings all of whose matched records are now withdrawn in the knowledge base."""
    wanted: dict[str, set[tuple[str, str]]] = {}
    for r in gone:
        prov = (r["detail"].get("packageVulnerabilityDetails") or {}).get("provenance") or []
        keys = {(p["advisorySource"], p["advisoryId"]) for p in prov}
        if keys:
            wanted[r["id"]] = keys
    if not wanted:
        return set()
    ids = {vid for keys in wanted.values() for _, vid in keys}
    groups = index.group_of(ids)
    records = index.group_records(set(groups.values()))
    state = {(a.source, a.id): a.withdrawn is not None for recs in records.values() for a in recs}
    return {fid for fid, keys in wanted.items() if all(state.get(k, False) for k in keys)}


def _close(conn: sa.Connection, account_id: str, resource_id: str, rows: list[tuple[str, str, str | None]],
           reasons: dict[str, str], when: str, scan_id: str | None) -> None:
    if not rows:
        return
    conn.execute(sa.update(findings).where(findings.c.id == sa.bindparam("b_id")).values(
        status="CLOSED", closed_at=when, updated_at=when, closed_reason=sa.bindparam("b_reason"),
        suppressed_by=None), [{"b_id": fid, "b_reason": reasons[fid]} for fid, _, _ in rows])
    history(conn, (_event(fid, account_id, resource_id, vid, when, status, "CLOSED", reasons[fid], scan_id)
                   for fid, status, vid in rows))


def close_all(conn: sa.Connection, account_id: str, resource_id: str, reason: str, when: str) -> int:
    rows = [(r.id, r.status, r.vulnerability_id) for r in conn.execute(
        sa.select(findings.c.id, findings.c.status, findings.c.vulnerability_id).where(
            findings.c.account_id == account_id, findings.c.resource_id == resource_id,
            findings.c.status.in_(OPEN)))]
    _close(conn, account_id, resource_id, rows, {fid: reason for fid, _, _ in rows}, when, None)
    return len(rows)
