"""Resources, scans (inventory push and server-side targets), SBOM export and coverage."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from vulnhound.service.api.deps import ActorDep, SettingsDep, json_body
from vulnhound.service.domain import coverage, exports, resources, scans
from vulnhound.service.domain.common import decode_token, page
from vulnhound.service.jobs.dispatch import dispatch, scan_job

router = APIRouter(prefix="/v1", tags=["resources"])

ResourceType = Literal["HOST", "CONTAINER_IMAGE", "FUNCTION", "SBOM"]
Tags = Annotated[dict[str, str], Field(max_length=50)]


class ResourceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: ResourceType
    name: Annotated[str, Field(min_length=1, max_length=500)]
    details: dict[str, Any] = {}
    tags: Tags = {}


class TagsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tags: Tags


class TargetScanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    resourceId: str
    target: Annotated[str, Field(min_length=1, max_length=4096)]


@router.post("/resources", status_code=201)
def create_resource(body: ResourceIn, who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    with s.engine.begin() as conn:
        return resources.create(conn, who, body.type, body.name, body.details, body.tags)


MaxResults = Annotated[int, Query(ge=1, le=1000)]
NextToken = Annotated[str | None, Query(max_length=2048)]


@router.get("/resources")
def list_resources(who: ActorDep, s: SettingsDep, type: ResourceType | None = None, includeDeleted: bool = False,
                   name: Annotated[str | None, Query(min_length=1, max_length=500)] = None,
                   maxResults: MaxResults = 1000, nextToken: NextToken = None) -> dict[str, Any]:
    scope = f"resources|{type}|{includeDeleted}|{name}"
    after = decode_token(nextToken, scope, (str,))
    with s.engine.connect() as conn:
        rows = resources.list_all(conn, who, type, includeDeleted, maxResults + 1, after[0] if after else None,
                                  name=name)
    items, token = page(rows, maxResults, scope, lambda r: [r["resourceId"]])
    return {"resources": items, "nextToken": token}


@router.get("/resources/{resource_id}")
def get_resource(resource_id: str, who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    with s.engine.connect() as conn:
        return resources.get(conn, who, resource_id)


@router.delete("/resources/{resource_id}", status_code=204)
def delete_resource(resource_id: str, who: ActorDep, s: SettingsDep) -> Response:
    with s.engine.begin() as conn:
        resources.delete(conn, who, resource_id)
    return Response(status_code=204)


@router.put("/resources/{resource_id}/tags")
def set_tags(resource_id: str, body: TagsIn, who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    with s.engine.begin() as conn:
        return resources.set_tags(conn, who, resource_id, body.tags)


@router.post("/resources/{resource_id}/inventory", status_code=201,
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                 "type": "object", "description": "a native inventory document (docs/inventory-json.md)"}}}}})
def push_inventory(resource_id: str, who: ActorDep, s: SettingsDep,
                   doc: Annotated[Any, Depends(json_body)]) -> dict[str, Any]:
    """Upload an inventory collected elsewhere (the agent's push path); it is matched at once."""
    with s.engine.begin() as conn:
        sid = scans.create_push(conn, who, resource_id, doc)
        job = scan_job(conn, who.account_id, sid)
    dispatch(s, job)
    with s.engine.connect() as conn:
        return scans.get(conn, who, sid)


@router.post("/scans", status_code=201)
def scan_target(body: TargetScanIn, who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    """Have the server collect the inventory of a target under its scan roots, then match it."""
    with s.engine.begin() as conn:
        sid = scans.create_target(conn, who, body.resourceId, body.target, s.scan_roots)
        job = scan_job(conn, who.account_id, sid)
    dispatch(s, job)
    with s.engine.connect() as conn:
        return scans.get(conn, who, sid)


@router.get("/scans")
def list_scans(who: ActorDep, s: SettingsDep, resourceId: str | None = None, maxResults: MaxResults = 100,
               nextToken: NextToken = None) -> dict[str, Any]:
    scope = f"scans|{resourceId}"
    after = decode_token(nextToken, scope, (str, str))
    with s.engine.connect() as conn:
        rows = scans.list_for(conn, who, resourceId, maxResults + 1, after)
    items, token = page(rows, maxResults, scope, lambda r: [r["createdAt"], r["scanId"]])
    return {"scans": items, "nextToken": token}


@router.get("/scans/{scan_id}")
def get_scan(scan_id: str, who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    with s.engine.connect() as conn:
        return scans.get(conn, who, scan_id)


@router.get("/resources/{resource_id}/sbom")
def sbom(resource_id: str, who: ActorDep, s: SettingsDep,
         format: Literal["CYCLONEDX", "SPDX"] = "CYCLONEDX") -> Response:
    with s.engine.connect() as conn:
        text = exports.sbom(conn, who, resource_id, format)
    media = "application/vnd.cyclonedx+json" if format == "CYCLONEDX" else "application/spdx+json"
    return Response(text, media_type=media)


@router.get("/coverage")
def list_coverage(who: ActorDep, s: SettingsDep, resourceType: ResourceType | None = None,
                  statusCode: str | None = None, reason: str | None = None, maxResults: MaxResults = 1000,
                  nextToken: NextToken = None) -> dict[str, Any]:
    scope = f"coverage|{resourceType}|{statusCode}|{reason}"
    after = decode_token(nextToken, scope, (str,))
    with s.engine.connect() as conn:
        rows = coverage.list_coverage(conn, who, resourceType, statusCode, reason, limit=maxResults + 1,
                                      after=after[0] if after else None)
    items, token = page(rows, maxResults, scope, lambda r: [r["resourceId"]])
    return {"coveredResources": items, "nextToken": token}


@router.get("/coverage/statistics")
def coverage_statistics(who: ActorDep, s: SettingsDep,
                        groupBy: Annotated[str, Query()] = "SCAN_STATUS_CODE") -> dict[str, Any]:
    with s.engine.connect() as conn:
        return coverage.statistics(conn, who, groupBy)
