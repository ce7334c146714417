"""Counts by severity grouped per resource, package, vulnerability, image layer, account, resource or finding type.

Like Inspector's ListFindingAggregations, counts cover ACTIVE findings unless the criteria name a findingStatus.
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa

from vulnhound.service.db.tables import findings
from vulnhound.service.domain.common import Actor
from vulnhound.service.domain.criteria import FilterCriteria, StringFilter, where

AggregationType = Literal["RESOURCE", "PACKAGE", "VULNERABILITY", "TITLE", "IMAGE_LAYER", "ACCOUNT",
                          "RESOURCE_TYPE", "FINDING_TYPE"]
KEYS: dict[str, tuple[str, sa.ColumnElement[Any]]] = {
    "RESOURCE": ("resourceId", findings.c.resource_id),
    "PACKAGE": ("packageName", findings.c.package_name),
    "VULNERABILITY": ("vulnerabilityId", findings.c.vulnerability_id),
    "TITLE": ("title", findings.c.title),
    "IMAGE_LAYER": ("layerHash", findings.c.layer_hash),
    "ACCOUNT": ("accountId", findings.c.account_id),
    "RESOURCE_TYPE": ("resourceType", findings.c.resource_type),
    "FINDING_TYPE": ("findingType", findings.c.type),
}
LEVELS = ("critical", "high", "medium", "low", "informational", "untriaged")


def with_default_status(criteria: FilterCriteria) -> FilterCriteria:
    if criteria.findingStatus:
        return criteria
    return criteria.model_copy(update={"findingStatus": [StringFilter(comparison="EQUALS", value="ACTIVE")]})


def aggregate(conn: sa.Connection, actor: Actor, kind: str, criteria: FilterCriteria,
              max_results: int = 100) -> dict[str, Any]:
    label, key = KEYS[kind]
    crit = with_default_status(criteria)
    q = (sa.select(key.label("k"), findings.c.severity, sa.func.count().label("n"),
                   sa.func.sum(sa.case((findings.c.fix_available != "NO", 1), else_=0)).label("fix"),
                   sa.func.sum(sa.case((findings.c.exploit_available, 1), else_=0)).label("exploit"))
         .where(findings.c.account_id == actor.account_id, key.is_not(None), *where(crit))
         .group_by(key, findings.c.severity))
    groups: dict[str, dict[str, Any]] = {}
    for k, severity, n, fix, exploit in conn.execute(q):
        g = groups.setdefault(k, {label: k, "severityCounts": {"all": 0, **dict.fromkeys(LEVELS, 0)},
                                  "fixAvailableCount": 0, "exploitAvailableCount": 0})
        g["severityCounts"]["all"] += n
        g["severityCounts"][severity.lower()] = g["severityCounts"].get(severity.lower(), 0) + n
        g["fixAvailableCount"] += int(fix or 0)
        g["exploitAvailableCount"] += int(exploit or 0)
    ordered = sorted(groups.values(), key=lambda g: (-g["severityCounts"]["critical"], -g["severityCounts"]["high"],
                                                     -g["severityCounts"]["all"], str(g[label])))
    return {"aggregationType": kind, "counts": ordered[:max_results], "totalGroups": len(ordered)}
