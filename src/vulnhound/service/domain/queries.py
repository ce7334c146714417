"""Reading findings: filtered, sorted lists with keyset cursors, one finding, its history, exposure at a time.

Cursors are keyset positions ``(sort value, id)`` bound to the request's criteria and sort: rows inserted or
deleted elsewhere never make a page skip or repeat a row, and a cursor replayed with another filter is rejected.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict

from vulnhound.service.db.tables import finding_history, findings
from vulnhound.service.domain.common import Actor, Invalid, owned_row, parse_time
from vulnhound.service.domain.criteria import FilterCriteria, where

SORT_COLUMNS: dict[str, sa.ColumnElement[Any]] = {
    "SEVERITY": findings.c.severity_rank,
    "FIRST_OBSERVED_AT": findings.c.first_observed_at,
    "LAST_OBSERVED_AT": findings.c.last_observed_at,
    "UPDATED_AT": findings.c.updated_at,
    "RISK_SCORE": findings.c.risk_score,
    "INSPECTOR_SCORE": findings.c.risk_score,
    "EPSS_SCORE": findings.c.epss_score,
    "VULNERABILITY_ID": sa.func.coalesce(findings.c.vulnerability_id, ""),
    "PACKAGE_NAME": sa.func.coalesce(findings.c.package_name, ""),
    "FINDING_STATUS": findings.c.status,
    "FINDING_TYPE": findings.c.type,
    "RESOURCE_TYPE": findings.c.resource_type,
    "RESOURCE_ID": findings.c.resource_id,
}
_ID = re.compile(r"[0-9a-f]{1,64}")
SortField = Literal["SEVERITY", "FIRST_OBSERVED_AT", "LAST_OBSERVED_AT", "UPDATED_AT", "RISK_SCORE",
                    "INSPECTOR_SCORE", "EPSS_SCORE", "VULNERABILITY_ID", "PACKAGE_NAME", "FINDING_STATUS",
                    "FINDING_TYPE", "RESOURCE_TYPE", "RESOURCE_ID"]


class SortCriteria(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: SortField = "SEVERITY"
    sortOrder: Literal["ASC", "DESC"] = "DESC"


def _fingerprint(criteria: FilterCriteria, sort: SortCriteria) -> str:
    text = json.dumps([criteria.model_dump(exclude_defaults=True), sort.model_dump()], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def encode_cursor(value: Any, fid: str, fp: str) -> str:
    raw = json.dumps({"v": value, "i": fid, "h": fp}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


NUMERIC_SORTS = frozenset({"SEVERITY", "RISK_SCORE", "INSPECTOR_SCORE", "EPSS_SCORE"})


def _cursor_value(value: Any, numeric: bool) -> Any:
    """The sort value of a cursor if it has the sort column's type; anyone can forge a token, and a mistyped
    value would reach the database as a comparison PostgreSQL refuses (or an integer SQLite cannot bind)."""
    if numeric:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(float(value)):
            raise ValueError
        # an integer stays one (the severity rank column is an integer: a float literal would cast the column and
        # lose its index); one too large for a 64-bit column becomes a float, which compares just as well
        return value if isinstance(value, int) and abs(value) < 2**62 else float(value)
    if not isinstance(value, str) or len(value) > 1024 or "\x00" in value:
        raise ValueError
    return value


def decode_cursor(token: str, fp: str, numeric: bool | None = None) -> tuple[Any, str]:
    """(sort value, finding id) of a token; ``numeric`` (when known) is whether the sort column is a number."""
    try:
        doc = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        value, fid, h = doc["v"], doc["i"], doc["h"]
        if not isinstance(fid, str) or not _ID.fullmatch(fid) or not isinstance(value, str | int | float):
            raise ValueError
        if numeric is not None:
            value = _cursor_value(value, numeric)
    except (ValueError, KeyError, TypeError, OverflowError):
        raise Invalid("invalid nextToken") from None
    if h != fp:
        raise Invalid("nextToken belongs to a request with other filterCriteria or sortCriteria")
    return value, fid


def wire(row: Any) -> dict[str, Any]:
    """The stored wire finding with the service's id, status and lifecycle fields."""
    out = dict(row["detail"])
    out.update({
        "findingId": row["id"], "accountId": row["account_id"], "status": row["status"],
        "resources": [{"id": row["resource_id"], "type": row["resource_type"]}],
        "firstObservedAt": row["first_observed_at"], "lastObservedAt": row["last_observed_at"],
        "updatedAt": row["updated_at"], "closedAt": row["closed_at"], "closedReason": row["closed_reason"],
    })
    out.pop("suppressedBy", None)
    if row["suppressed_by"]:
        out["suppressedBy"] = row["suppressed_by"]
    return out


def list_findings(conn: sa.Connection, actor: Actor, criteria: FilterCriteria, sort: SortCriteria,
                  max_results: int = 50, next_token: str | None = None) -> dict[str, Any]:
    fp = _fingerprint(criteria, sort)
    key = SORT_COLUMNS[sort.field]
    desc = sort.sortOrder == "DESC"
    q = sa.select(findings, key.label("_k")).where(findings.c.account_id == actor.account_id, *where(criteria))
    if next_token:
        value, last = decode_cursor(next_token, fp, sort.field in NUMERIC_SORTS)
        pos = sa.tuple_(key, findings.c.id)
        q = q.where(pos < sa.tuple_(sa.literal(value), sa.literal(last)) if desc
                    else pos > sa.tuple_(sa.literal(value), sa.literal(last)))
    order = (key.desc(), findings.c.id.desc()) if desc else (key.asc(), findings.c.id.asc())
    rows = list(conn.execute(q.order_by(*order).limit(max_results + 1)).mappings())
    page = rows[:max_results]
    token = encode_cursor(page[-1]["_k"], page[-1]["id"], fp) if len(rows) > max_results else None
    return {"findings": [wire(r) for r in page], "nextToken": token}


def get_finding(conn: sa.Connection, actor: Actor, fid: str) -> dict[str, Any]:
    return wire(owned_row(conn, findings, actor, fid, "finding"))


def _history_wire(r: Any) -> dict[str, Any]:
    return {"findingId": r["finding_id"], "at": r["at"], "fromStatus": r["from_status"], "toStatus": r["to_status"],
            "reason": r["reason"], "scanId": r["scan_id"], "ruleId": r["rule_id"], "cause": r["cause"],
            "kbOperation": r["kb_operation"], "detail": r["detail"]}


def finding_history_of(conn: sa.Connection, actor: Actor, fid: str) -> list[dict[str, Any]]:
    get_finding(conn, actor, fid)
    rows = conn.execute(sa.select(finding_history).where(
        finding_history.c.finding_id == fid, finding_history.c.account_id == actor.account_id)
        .order_by(finding_history.c.seq)).mappings()
    return [_history_wire(r) for r in rows]


def exposure(conn: sa.Connection, actor: Actor, resource_id: str, vulnerability_id: str, at: str) -> dict[str, Any]:
    """Was the resource exposed (a finding ACTIVE or SUPPRESSED) to the vulnerability at ``at``?"""
    from vulnhound.service.domain.resources import row_of

    row_of(conn, actor, resource_id, include_deleted=True)  # another tenant's resource does not exist
    when = parse_time(at)
    h = finding_history
    rows = list(conn.execute(sa.select(h).where(
        h.c.account_id == actor.account_id, h.c.resource_id == resource_id,
        h.c.vulnerability_id == vulnerability_id).order_by(h.c.seq)).mappings())
    state: dict[str, str] = {}
    for r in rows:
        if r["at"] <= when:
            state[r["finding_id"]] = r["to_status"]
    exposed = sorted(fid for fid, s in state.items() if s in ("ACTIVE", "SUPPRESSED"))
    return {"resourceId": resource_id, "vulnerabilityId": vulnerability_id, "at": when, "exposed": bool(exposed),
            "findingIds": exposed, "history": [_history_wire(r) for r in rows]}
