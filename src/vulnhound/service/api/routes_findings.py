"""Findings: list with FilterCriteria and cursors, detail, history, exposure, aggregations, reports, filters."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from vulnhound.service.api.deps import ActorDep, SettingsDep
from vulnhound.service.domain import aggregations, exports, queries, suppression
from vulnhound.service.domain.common import decode_token, page
from vulnhound.service.domain.criteria import FilterCriteria
from vulnhound.service.domain.queries import SortCriteria

router = APIRouter(prefix="/v1", tags=["findings"])


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListIn(_In):
    filterCriteria: FilterCriteria = FilterCriteria()
    sortCriteria: SortCriteria = SortCriteria()
    maxResults: Annotated[int, Field(ge=1, le=100)] = 50
    nextToken: Annotated[str, Field(max_length=2048)] | None = None


class AggregationIn(_In):
    aggregationType: aggregations.AggregationType
    filterCriteria: FilterCriteria = FilterCriteria()
    maxResults: Annotated[int, Field(ge=1, le=1000)] = 100


class ReportIn(_In):
    filterCriteria: FilterCriteria = FilterCriteria()
    reportFormat: Literal["CSV", "JSON"] = "JSON"


Name = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._-]+$")]
Text = Annotated[str, Field(max_length=512)]


class FilterIn(_In):
    name: Name
    action: Literal["NONE", "SUPPRESS"] = "SUPPRESS"
    filterCriteria: FilterCriteria
    description: Text | None = None
    reason: Text | None = None
    expiresAt: str | None = None


class FilterPatch(_In):
    name: Name | None = None
    action: Literal["NONE", "SUPPRESS"] | None = None
    filterCriteria: FilterCriteria | None = None
    description: Text | None = None
    reason: Text | None = None
    expiresAt: str | None = None


def _json(doc: dict[str, Any]) -> Response:
    # Findings are plain JSON already (stored wire form): json.dumps takes ~2 ms for a page of 50 where FastAPI's
    # generic jsonable_encoder walk takes ~20 ms.
    return Response(json.dumps(doc, separators=(",", ":")), media_type="application/json")


@router.post("/findings/list", response_class=JSONResponse)
def list_findings(body: ListIn, who: ActorDep, s: SettingsDep) -> Response:
    with s.engine.connect() as conn:
        return _json(queries.list_findings(conn, who, body.filterCriteria, body.sortCriteria, body.maxResults,
                                           body.nextToken))


@router.get("/findings/{finding_id}")
def get_finding(finding_id: str, who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    with s.engine.connect() as conn:
        return queries.get_finding(conn, who, finding_id)


@router.get("/findings/{finding_id}/history")
def finding_history(finding_id: str, who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    with s.engine.connect() as conn:
        return {"findingId": finding_id, "history": queries.finding_history_of(conn, who, finding_id)}


@router.get("/exposure")
def exposure(resourceId: str, vulnerabilityId: str, at: str, who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    """Was resource ``resourceId`` exposed to ``vulnerabilityId`` at time ``at``? Answered from finding history."""
    with s.engine.connect() as conn:
        return queries.exposure(conn, who, resourceId, vulnerabilityId, at)


@router.post("/findings/aggregations", response_class=JSONResponse)
def aggregate(body: AggregationIn, who: ActorDep, s: SettingsDep) -> Response:
    with s.engine.connect() as conn:
        return _json(aggregations.aggregate(conn, who, body.aggregationType, body.filterCriteria, body.maxResults))


@router.post("/findings/report")
def report(body: ReportIn, who: ActorDep, s: SettingsDep) -> Response:
    with s.engine.connect() as conn:
        text = exports.findings_report(conn, who, body.filterCriteria, body.reportFormat)
    return Response(text, media_type="text/csv" if body.reportFormat == "CSV" else "application/json")


@router.post("/filters", status_code=201)
def create_filter(body: FilterIn, who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    with s.engine.begin() as conn:
        return suppression.create(conn, who, body.name, body.action, body.filterCriteria, body.description,
                                  body.reason, body.expiresAt)


@router.get("/filters")
def list_filters(who: ActorDep, s: SettingsDep, action: Literal["NONE", "SUPPRESS"] | None = None,
                 maxResults: Annotated[int, Query(ge=1, le=1000)] = 1000,
                 nextToken: Annotated[str | None, Query(max_length=2048)] = None) -> dict[str, Any]:
    scope = f"filters|{action}"
    after = decode_token(nextToken, scope, (str,))
    with s.engine.connect() as conn:
        rows = suppression.list_all(conn, who, action, maxResults + 1, after[0] if after else None)
    items, token = page(rows, maxResults, scope, lambda r: [r["name"]])
    return {"filters": items, "nextToken": token}


@router.get("/filters/{filter_id}")
def get_filter(filter_id: str, who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    with s.engine.connect() as conn:
        return suppression.get(conn, who, filter_id)


@router.patch("/filters/{filter_id}")
def update_filter(filter_id: str, body: FilterPatch, who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    changes = {k: getattr(body, k) for k in body.model_fields_set}
    with s.engine.begin() as conn:
        return suppression.update(conn, who, filter_id, changes)


@router.delete("/filters/{filter_id}")
def delete_filter(filter_id: str, who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    with s.engine.begin() as conn:
        return {"findingsMoved": suppression.delete(conn, who, filter_id)}
