"""Coverage: per resource, is it being scanned and if not why (Inspector's ListCoverage / ListCoverageStatistics).

STALE_INVENTORY is decided at read time: a resource whose last successful scan is older than seven days.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import sqlalchemy as sa

from vulnhound.service.db.tables import resources
from vulnhound.service.domain.common import Actor, Invalid, iso

STALE_AFTER = dt.timedelta(days=7)
GROUP_KEYS = {"SCAN_STATUS_CODE": "statusCode", "SCAN_STATUS_REASON": "reason", "RESOURCE_TYPE": "resourceType"}


def _status(row: Any, stale_before: str) -> tuple[str, str]:
    if row["scan_status"] == "ACTIVE" and row["last_scanned_at"] and row["last_scanned_at"] < stale_before:
        return "INACTIVE", "STALE_INVENTORY"
    return row["scan_status"], row["scan_reason"]


def list_coverage(conn: sa.Connection, actor: Actor, resource_type: str | None = None,
                  status_code: str | None = None, reason: str | None = None,
                  now: dt.datetime | None = None, limit: int | None = None, after: str | None = None
                  ) -> list[dict[str, Any]]:
    """By resource id; ``after``: the last resource id of the previous page. The status filters run here, not in
    SQL (STALE_INVENTORY is decided at read time), so rows are read in batches until ``limit`` match."""
    stale_before = iso((now or dt.datetime.now(dt.UTC)) - STALE_AFTER)
    q = sa.select(resources).where(resources.c.account_id == actor.account_id, resources.c.deleted_at.is_(None))
    if resource_type:
        q = q.where(resources.c.type == resource_type)
    out: list[dict[str, Any]] = []
    batch = 1000
    while limit is None or len(out) < limit:
        rows = list(conn.execute((q.where(resources.c.id > after) if after is not None else q)
                                 .order_by(resources.c.id).limit(batch)).mappings())
        out += _matching(rows, stale_before, status_code, reason)
        if len(rows) < batch:
            break
        after = rows[-1]["id"]
    return out if limit is None else out[:limit]


def _matching(rows: list[Any], stale_before: str, status_code: str | None, reason: str | None
              ) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        code, why = _status(r, stale_before)
        if (status_code and code != status_code) or (reason and why != reason):
            continue
        out.append({"resourceId": r["id"], "resourceType": r["type"], "name": r["name"], "accountId": r["account_id"],
                    "scanType": "PACKAGE", "scanStatus": {"statusCode": code, "reason": why,
                                                          "message": r["scan_message"]},
                    "lastScannedAt": r["last_scanned_at"]})
    return out


def statistics(conn: sa.Connection, actor: Actor, group_by: str = "SCAN_STATUS_CODE") -> dict[str, Any]:
    if group_by not in GROUP_KEYS:
        raise Invalid(f"unknown groupBy {group_by!r}: use one of {', '.join(GROUP_KEYS)}")
    items = list_coverage(conn, actor)
    field = GROUP_KEYS[group_by]
    counts = Counter(i["resourceType"] if field == "resourceType" else i["scanStatus"][field] for i in items)
    return {"groupBy": group_by, "countsByGroup": [{"groupKey": k, "count": n} for k, n in sorted(counts.items())],
            "totalCounts": len(items)}
