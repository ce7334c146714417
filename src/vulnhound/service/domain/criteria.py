"""Inspector's FilterCriteria (the shape ListFindings, suppression rules and reports share) compiled to SQL.

Semantics: filters within one field are OR-ed for EQUALS/PREFIX and every NOT_EQUALS must hold; fields are
AND-ed. Unknown fields are rejected, not ignored: a typo must not widen a suppression rule.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, field_validator

from vulnhound.service.db.tables import findings, resource_tags
from vulnhound.service.domain.common import parse_time

Str = Annotated[str, Field(min_length=1, max_length=1024)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StringFilter(_Strict):
    comparison: Literal["EQUALS", "PREFIX", "NOT_EQUALS"]
    value: Str


class NumberFilter(_Strict):
    lowerInclusive: float | None = None
    upperInclusive: float | None = None


class DateFilter(_Strict):
    startInclusive: str | None = None
    endInclusive: str | None = None

    @field_validator("startInclusive", "endInclusive")
    @classmethod
    def _iso(cls, v: str | None) -> str | None:
        return None if v is None else parse_time(v)


class MapFilter(_Strict):
    comparison: Literal["EQUALS"] = "EQUALS"
    key: Annotated[str, Field(min_length=1, max_length=128)]
    value: Annotated[str, Field(max_length=256)] | None = None


class PackageFilter(_Strict):
    name: StringFilter | None = None
    version: StringFilter | None = None


L = Annotated[list[StringFilter], Field(max_length=10)]
N = Annotated[list[NumberFilter], Field(max_length=10)]
D = Annotated[list[DateFilter], Field(max_length=10)]


class FilterCriteria(_Strict):
    findingId: L = []
    findingType: L = []
    findingStatus: L = []
    severity: L = []
    title: L = []
    vulnerabilityId: L = []
    vulnerabilitySource: L = []
    resourceId: L = []
    resourceType: L = []
    fixAvailable: L = []
    exploitAvailable: L = []
    layerHash: L = []
    vulnerablePackages: Annotated[list[PackageFilter], Field(max_length=10)] = []
    resourceTags: Annotated[list[MapFilter], Field(max_length=10)] = []
    epssScore: N = []
    riskScore: N = []
    firstObservedAt: D = []
    lastObservedAt: D = []
    updatedAt: D = []


STRING_COLUMNS: dict[str, sa.ColumnElement[Any]] = {
    "findingId": findings.c.id, "findingType": findings.c.type, "findingStatus": findings.c.status,
    "severity": findings.c.severity, "title": findings.c.title, "vulnerabilityId": findings.c.vulnerability_id,
    "vulnerabilitySource": findings.c.vulnerability_source, "resourceId": findings.c.resource_id,
    "resourceType": findings.c.resource_type, "fixAvailable": findings.c.fix_available,
    "layerHash": findings.c.layer_hash,
}
NUMBER_COLUMNS = {"epssScore": findings.c.epss_score, "riskScore": findings.c.risk_score}
DATE_COLUMNS = {"firstObservedAt": findings.c.first_observed_at, "lastObservedAt": findings.c.last_observed_at,
                "updatedAt": findings.c.updated_at}


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def string_clause(col: sa.ColumnElement[Any], fs: list[StringFilter]) -> sa.ColumnElement[bool] | None:
    anyof: list[sa.ColumnElement[bool]] = []
    allof: list[sa.ColumnElement[bool]] = []
    for f in fs:
        if f.comparison == "EQUALS":
            anyof.append(col == f.value)
        elif f.comparison == "PREFIX":
            anyof.append(col.like(_like(f.value), escape="\\"))
        else:
            allof.append(sa.or_(col.is_(None), col != f.value))
    parts = ([sa.or_(*anyof)] if anyof else []) + allof
    return sa.and_(*parts) if parts else None


def _bool_clause(col: sa.ColumnElement[Any], fs: list[StringFilter]) -> sa.ColumnElement[bool] | None:
    anyof = [col == (f.value.upper() == "YES") for f in fs if f.comparison != "NOT_EQUALS"]
    allof = [col != (f.value.upper() == "YES") for f in fs if f.comparison == "NOT_EQUALS"]
    parts = ([sa.or_(*anyof)] if anyof else []) + allof
    return sa.and_(*parts) if parts else None


def _rank_clause(fs: list[StringFilter]) -> sa.ColumnElement[bool] | None:
    """The severity EQUALS filters again as ranks: redundant, but it lets the default sort (severity rank, id)
    seek to HIGH in its index instead of walking past every CRITICAL finding first."""
    from vulnhound.service.domain.lifecycle import _SEVERITY_RANK

    anyof = [f.value for f in fs if f.comparison != "NOT_EQUALS"]
    if not anyof or any(f.comparison == "PREFIX" or f.value not in _SEVERITY_RANK for f in fs
                        if f.comparison != "NOT_EQUALS"):
        return None
    return findings.c.severity_rank.in_(sorted({_SEVERITY_RANK[v] for v in anyof}))


def _range(col: sa.ColumnElement[Any], lo: Any, hi: Any) -> sa.ColumnElement[bool]:
    parts = [c for c in ((col >= lo) if lo is not None else None, (col <= hi) if hi is not None else None)
             if c is not None]
    return sa.and_(*parts) if parts else sa.true()


def where(criteria: FilterCriteria) -> list[sa.ColumnElement[bool]]:
    """Clauses over ``findings`` (AND them); the caller adds the account scope."""
    out: list[sa.ColumnElement[bool]] = []
    for name, col in STRING_COLUMNS.items():
        if (c := string_clause(col, getattr(criteria, name))) is not None:
            out.append(c)
    if (c := _rank_clause(criteria.severity)) is not None:
        out.append(c)
    if (c := _bool_clause(findings.c.exploit_available, criteria.exploitAvailable)) is not None:
        out.append(c)
    for name, ncol in NUMBER_COLUMNS.items():
        nfs: list[NumberFilter] = getattr(criteria, name)
        if nfs:
            out.append(sa.or_(*(_range(ncol, f.lowerInclusive, f.upperInclusive) for f in nfs)))
    for name, dcol in DATE_COLUMNS.items():
        dfs: list[DateFilter] = getattr(criteria, name)
        if dfs:
            out.append(sa.or_(*(_range(dcol, f.startInclusive, f.endInclusive) for f in dfs)))
    if criteria.vulnerablePackages:
        alts = []
        for p in criteria.vulnerablePackages:
            parts = [c for c in (string_clause(findings.c.package_name, [p.name]) if p.name else None,
                                 string_clause(findings.c.package_version, [p.version]) if p.version else None)
                     if c is not None]
            alts.append(sa.and_(*parts) if parts else sa.true())
        out.append(sa.or_(*alts))
    if criteria.resourceTags:
        alts = []
        for m in criteria.resourceTags:
            tag = sa.select(resource_tags.c.resource_id).where(
                resource_tags.c.resource_id == findings.c.resource_id, resource_tags.c.key == m.key)
            if m.value is not None:
                tag = tag.where(resource_tags.c.value == m.value)
            alts.append(tag.exists())
        out.append(sa.or_(*alts))
    return out
