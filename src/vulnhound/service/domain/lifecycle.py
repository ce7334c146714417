"""The finding lifecycle: a scan's (or a re-evaluation's) match result opens, refreshes, closes (with the reason)
and reopens findings; each change is a history row with its cause and an outbox event, in the same transaction.

A finding's id is stable per (account, resource, vulnerability group, package instance), so a vulnerability that
comes back after being closed reopens under the same id. Every status change is a ``finding_history`` row; that
history answers "was resource R exposed to X at time T?".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from vulnhound.exports.findings_json import finding_to_wire
from vulnhound.findings.model import Finding, FindingType
from vulnhound.inventory.model import Inventory
from vulnhound.matching.index import AdvisoryIndex
from vulnhound.service.db.tables import finding_history, findings
from vulnhound.service.events.outbox import emit_many, event_row

OPEN = ("ACTIVE", "SUPPRESSED")
CLOSE_REASONS = ("PACKAGE_UPGRADED", "PACKAGE_REMOVED", "ADVISORY_WITHDRAWN", "NO_LONGER_AFFECTED",
                 "RESOURCE_DELETED", "NOT_OBSERVED", "OUT_OF_WINDOW")  # OUT_OF_WINDOW: image past its rescan window
_SEVERITY_RANK = {"UNTRIAGED": 0, "INFORMATIONAL": 1, "LOW": 2, "MEDIUM": 3, "HIGH": 4, "CRITICAL": 5}


@dataclass(slots=True)
class IngestResult:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)  # refreshed by a scan (or changed by a re-evaluation)
    reopened: list[str] = field(default_factory=list)
    closed: dict[str, str] = field(default_factory=dict)  # id -> reason
    changed: list[str] = field(default_factory=list)  # severity, score, fix or exploit changed
    causes: dict[str, int] = field(default_factory=dict)  # cause -> findings created/changed/closed/reopened

    def counts(self) -> dict[str, int]:
        return {"created": len(self.created), "updated": len(self.updated), "reopened": len(self.reopened),
                "closed": len(self.closed), "changed": len(self.changed)}


ADDED, MODIFIED, WITHDRAWN = "ADVISORY_ADDED", "ADVISORY_MODIFIED", "ADVISORY_WITHDRAWN"
NEW_INVENTORY, KEV_CHANGED, EPSS_CHANGED = "NEW_INVENTORY", "KEV_CHANGED", "EPSS_CHANGED"


@dataclass(frozen=True, slots=True)
class Cause:
    """Why findings are being re-derived: a new inventory (scans), or knowledge-base operations, whose changed
    record ids (``records``: advisory id → (ADVISORY_ADDED | _MODIFIED | _WITHDRAWN, operation id)) say which
    advisory moved each finding."""

    default: str = NEW_INVENTORY
    kb_operation: int | None = None
    records: Mapping[str, tuple[str, int]] = field(default_factory=dict)

    def pick(self, detail: Mapping[str, Any], prefer: tuple[str, ...]) -> tuple[str, int | None]:
        if self.default == NEW_INVENTORY:
            return NEW_INVENTORY, None
        pvd = detail.get("packageVulnerabilityDetails") or {}
        matched = [p["advisoryId"] for p in pvd.get("provenance") or []]
        group = [pvd.get("vulnerabilityId") or "", *(pvd.get("aliases") or [])]
        # The records a finding matched speak first; then any record of its vulnerability group (severity).
        for ids in (matched, group):
            hits: dict[str, int] = {}
            for i in ids:
                if (hit := self.records.get(i)) is not None:
                    hits.setdefault(hit[0], hit[1])
            for kind in prefer:
                if kind in hits:
                    return kind, hits[kind]
        return self.default, self.kb_operation


SCAN = Cause()


def service_id(account_id: str, matcher_id: str) -> str:
    # The matcher's id already hashes (resource, group, package instance); the account makes it tenant-unique.
    return hashlib.sha256(f"{account_id}\x00{matcher_id}".encode()).hexdigest()[:32]


def package_id_of(detail: Mapping[str, Any]) -> str | None:
    pkgs = (detail.get("packageVulnerabilityDetails") or {}).get("vulnerablePackages") or []
    return pkgs[0].get("packageId") if pkgs else None


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


def _as_stored(detail: dict[str, Any]) -> Any:
    """The wire form as the store gives it back (tuples become lists), for comparing with a stored row; only the
    re-evaluation compares, so scans do not pay for the round trip."""
    return json.loads(json.dumps(detail))


def _diff(old: Any, new: Any) -> dict[str, Any]:
    names = ("severity", "risk_score", "fix_available", "exploit_available", "epss_score")
    wire = ("severity", "riskScore", "fixAvailable", "exploitAvailable", "epssScore")
    a, b = _material(old), _material(new)
    return {w: {"old": x, "new": y} for w, n, x, y in zip(wire, names, a, b, strict=True) if x != y}


def history(conn: sa.Connection, rows: Iterable[dict[str, Any]]) -> None:
    batch = list(rows)
    if batch:
        conn.execute(finding_history.insert(), batch)


def _event(fid: str, account_id: str, resource_id: str, vid: str | None, at: str, old: str | None, new: str,
           reason: str, scan_id: str | None = None, rule_id: str | None = None, cause: str | None = None,
           kb_operation: int | None = None, detail: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"finding_id": fid, "account_id": account_id, "resource_id": resource_id, "vulnerability_id": vid,
            "at": at, "from_status": old, "to_status": new, "reason": reason, "scan_id": scan_id, "rule_id": rule_id,
            "cause": cause, "kb_operation": kb_operation, "detail": detail}


_EVENT_TYPE = {"CREATED": "vulnhound.finding.created", "REOPENED": "vulnhound.finding.reopened",
               "UPDATED": "vulnhound.finding.updated"}


def _outbox(row: Mapping[str, Any], h: dict[str, Any]) -> dict[str, Any]:
    """The event of one history row: the finding's wire form plus what changed and why."""
    from vulnhound.service.domain.queries import wire

    change = {"cause": h["cause"], "reason": h["reason"], "from": h["from_status"], "to": h["to_status"],
              "kbOperation": h["kb_operation"]}
    if h["detail"]:
        change["detail"] = h["detail"]
    kind = _EVENT_TYPE.get(h["reason"], "vulnhound.finding.closed")
    return event_row(h["account_id"], kind, h["resource_id"], {**wire(row), "change": change}, h["at"])


def ingest(conn: sa.Connection, account_id: str, resource_id: str, resource_type: str, found: list[Finding],
           inv: Inventory, index: AdvisoryIndex, scan_id: str | None, when: str, *, cause: Cause = SCAN,
           observed: bool = True, scope: Collection[str] | None = None) -> IngestResult:
    """Apply one complete observation of a resource; suppression rules are applied by the caller afterwards.

    ``observed=False`` (re-evaluation) leaves ``lastObservedAt`` alone and writes only what changed, so running it
    twice changes nothing. ``scope`` (package ids) limits it to those packages' vulnerability findings.
    """
    result = IngestResult()
    q = sa.select(findings).where(findings.c.account_id == account_id, findings.c.resource_id == resource_id)
    if scope is not None:
        # Only the scoped packages' rows: decoding every finding's detail would dominate a re-evaluation.
        q = q.where(findings.c.package_name.in_(sorted({p.name for p in inv.packages if p.id in scope})))
    existing = {r["id"]: r for r in conn.execute(q).mappings()}
    if scope is not None:
        pvuln = FindingType.PACKAGE_VULNERABILITY
        existing = {k: r for k, r in existing.items()
                    if r["type"] == pvuln.value and package_id_of(r["detail"]) in scope}
        found = [f for f in found if f.type == pvuln and f.package and f.package.vulnerable_packages
                 and f.package.vulnerable_packages[0].package_id in scope]
    seen: dict[str, dict[str, Any]] = {}
    for f in found:
        seen.setdefault(service_id(account_id, f.id), columns(f))
    inserts, updates, events, rows = [], [], [], []
    for fid, cols in seen.items():
        old = existing.get(fid)
        if old is None:
            row = {**cols, "id": fid, "account_id": account_id, "resource_id": resource_id,
                   "resource_type": resource_type, "status": "ACTIVE", "first_observed_at": when,
                   "last_observed_at": when, "updated_at": when}
            inserts.append(row)
            why, op = cause.pick(cols["detail"], (ADDED, MODIFIED, WITHDRAWN))
            events.append(_event(fid, account_id, resource_id, cols["vulnerability_id"], when, None, "ACTIVE",
                                 "CREATED", scan_id, cause=why, kb_operation=op))
            rows.append({**row, "closed_at": None, "closed_reason": None, "suppressed_by": None})
            result.created.append(fid)
            continue
        reopen = old["status"] == "CLOSED"
        material = _material(old) != _material(cols)
        if not observed and not reopen and not material and old["detail"] == _as_stored(cols["detail"]):
            continue  # nothing to write: a re-evaluation that finds the same thing leaves the row alone
        status = "ACTIVE" if reopen else old["status"]
        new = {**cols, "status": status, "last_observed_at": when if observed else old["last_observed_at"],
               "updated_at": when if (reopen or material) else old["updated_at"], "closed_at": None,
               "closed_reason": None}
        updates.append({**new, "b_id": fid})
        merged = {**old, **new}
        if reopen:
            why, op = cause.pick(cols["detail"], (ADDED, MODIFIED, WITHDRAWN))
            events.append(_event(fid, account_id, resource_id, cols["vulnerability_id"], when, "CLOSED", "ACTIVE",
                                 "REOPENED", scan_id, cause=why, kb_operation=op))
            rows.append(merged)
            result.reopened.append(fid)
            continue
        if material:
            why, op = cause.pick(cols["detail"], (MODIFIED, ADDED, WITHDRAWN))
            if why == cause.default and cause.default != NEW_INVENTORY:
                if bool(old["exploit_available"]) != bool(cols["exploit_available"]):
                    why = KEV_CHANGED
                elif round(float(old["epss_score"]), 6) != round(float(cols["epss_score"]), 6):
                    why = EPSS_CHANGED
            events.append(_event(fid, account_id, resource_id, cols["vulnerability_id"], when, status, status,
                                 "UPDATED", scan_id, cause=why, kb_operation=op, detail=_diff(old, cols)))
            rows.append(merged)
            result.changed.append(fid)
        if observed or material:
            result.updated.append(fid)
    if inserts:
        conn.execute(findings.insert(), inserts)
    if updates:
        conn.execute(sa.update(findings).where(findings.c.id == sa.bindparam("b_id")), updates)
    gone = [r for fid, r in existing.items() if fid not in seen and r["status"] in OPEN]
    reasons = close_reasons(gone, inv, index)
    for r in gone:
        result.closed[r["id"]] = reasons[r["id"]]
    history(conn, events)
    emit_many(conn, (_outbox(row, h) for row, h in zip(rows, events, strict=True)))
    _close(conn, account_id, resource_id, gone, reasons, when, scan_id, cause)
    for h in events:
        result.causes[h["cause"]] = result.causes.get(h["cause"], 0) + 1
    for r in gone:
        why = _close_cause(cause, r, reasons[r["id"]])[0]
        result.causes[why] = result.causes.get(why, 0) + 1
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


def _close_cause(cause: Cause, row: Any, reason: str) -> tuple[str, int | None]:
    if cause.default == NEW_INVENTORY:
        return NEW_INVENTORY, None
    if reason == "ADVISORY_WITHDRAWN":
        return WITHDRAWN, cause.pick(row["detail"], (WITHDRAWN, MODIFIED, ADDED))[1]
    if reason in CLOSE_REASONS[:2] or reason in ("RESOURCE_DELETED", "NOT_OBSERVED"):
        return cause.default, cause.kb_operation
    return cause.pick(row["detail"], (MODIFIED, WITHDRAWN, ADDED))


def _close(conn: sa.Connection, account_id: str, resource_id: str, rows: Sequence[Any],
           reasons: dict[str, str], when: str, scan_id: str | None, cause: Cause | None) -> None:
    """Close the rows (full findings rows) with their reasons; history and events in the caller's transaction."""
    if not rows:
        return
    conn.execute(sa.update(findings).where(findings.c.id == sa.bindparam("b_id")).values(
        status="CLOSED", closed_at=when, updated_at=when, closed_reason=sa.bindparam("b_reason"),
        suppressed_by=None), [{"b_id": r["id"], "b_reason": reasons[r["id"]]} for r in rows])
    hist = []
    for r in rows:
        reason = reasons[r["id"]]
        why, op = _close_cause(cause, r, reason) if cause is not None else (reason, None)
        hist.append(_event(r["id"], account_id, resource_id, r["vulnerability_id"], when, r["status"], "CLOSED",
                           reason, scan_id, cause=why, kb_operation=op))
    history(conn, hist)
    emit_many(conn, (_outbox({**r, "status": "CLOSED", "closed_at": when, "updated_at": when,
                              "closed_reason": reasons[r["id"]], "suppressed_by": None}, h)
                     for r, h in zip(rows, hist, strict=True)))


def close_all(conn: sa.Connection, account_id: str, resource_id: str, reason: str, when: str) -> int:
    rows = list(conn.execute(sa.select(findings).where(
        findings.c.account_id == account_id, findings.c.resource_id == resource_id,
        findings.c.status.in_(OPEN))).mappings())
    _close(conn, account_id, resource_id, rows, {r["id"]: reason for r in rows}, when, None, None)
    return len(rows)
