"""Findings reports (CSV or JSON) for a filter, and an SBOM (CycloneDX or SPDX) of a resource's latest inventory."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa

from vulnhound.service.db.tables import findings
from vulnhound.service.domain.aggregations import with_default_status
from vulnhound.service.domain.common import Actor, Invalid, NotFound
from vulnhound.service.domain.criteria import FilterCriteria, where
from vulnhound.service.domain.queries import wire

CSV_COLUMNS = ("findingId", "status", "severity", "riskScore", "type", "title", "vulnerabilityId", "packageName",
               "packageVersion", "fixedInVersion", "fixAvailable", "exploitAvailable", "epssScore", "resourceId",
               "resourceType", "firstObservedAt", "lastObservedAt", "updatedAt", "closedAt", "closedReason")
BATCH = 500


def _rows(conn: sa.Connection, actor: Actor, criteria: FilterCriteria) -> Iterator[dict[str, Any]]:
    last = ""
    crit = where(with_default_status(criteria))
    while True:  # keyset batches keep memory flat for large reports
        batch = list(conn.execute(sa.select(findings).where(
            findings.c.account_id == actor.account_id, findings.c.id > last, *crit)
            .order_by(findings.c.id).limit(BATCH)).mappings())
        for r in batch:
            yield wire(r)
        if len(batch) < BATCH:
            return
        last = batch[-1]["id"]


def _csv_row(f: dict[str, Any]) -> list[Any]:
    pvd = f.get("packageVulnerabilityDetails") or {}
    pkg = (pvd.get("vulnerablePackages") or [{}])[0]
    return [f["findingId"], f["status"], f["severity"], f["riskScore"], f["type"], f["title"],
            pvd.get("vulnerabilityId"), pkg.get("name"), pkg.get("version"), pkg.get("fixedInVersion"),
            f["fixAvailable"], f["exploitAvailable"], (f.get("epss") or {}).get("score"),
            f["resources"][0]["id"], f["resources"][0]["type"], f["firstObservedAt"], f["lastObservedAt"],
            f["updatedAt"], f["closedAt"], f["closedReason"]]


def findings_report(conn: sa.Connection, actor: Actor, criteria: FilterCriteria, fmt: str) -> str:
    if fmt == "JSON":
        return json.dumps({"findings": list(_rows(conn, actor, criteria))}, indent=1) + "\n"
    if fmt != "CSV":
        raise Invalid(f"unknown report format {fmt!r}: use CSV or JSON")
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(CSV_COLUMNS)
    for f in _rows(conn, actor, criteria):
        out.writerow(_csv_row(f))
    return buf.getvalue()


def sbom(conn: sa.Connection, actor: Actor, resource_id: str, fmt: str) -> str:
    from vulnhound.exports.cyclonedx_out import render_cyclonedx
    from vulnhound.exports.spdx_out import render_spdx
    from vulnhound.service.domain import resources
    from vulnhound.service.domain.inventories import load

    row = resources.row_of(conn, actor, resource_id)
    if not row["inventory_sha256"]:
        raise NotFound(f"resource {resource_id!r} has no inventory yet: scan it first")
    inv = load(conn, actor.account_id, row["inventory_sha256"])
    if fmt == "CYCLONEDX":
        return render_cyclonedx(inv)
    if fmt == "SPDX":
        return render_spdx(inv)
    raise Invalid(f"unknown SBOM format {fmt!r}: use CYCLONEDX or SPDX")
