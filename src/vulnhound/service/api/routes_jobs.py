"""Schedules (``/v1/schedules`` CRUD, tenant-scoped) and the job log (``/v1/jobs``, admins)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import sqlalchemy as sa
from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from vulnhound.service.api.deps import ActorDep, SettingsDep
from vulnhound.service.db.tables import jobs
from vulnhound.service.domain.common import Actor, NotFound, decode_token, page, parse_time
from vulnhound.service.jobs import scheduler, store

router = APIRouter(prefix="/v1", tags=["jobs"])

Interval = Annotated[int, Field(ge=60, le=366 * 86400)]
Window = Annotated[int, Field(ge=3600, le=3 * 366 * 86400)]


class ScheduleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["RESCAN", "DB_UPDATE", "FULL_REEVALUATION"]
    intervalSeconds: Interval
    resourceType: Literal["HOST", "CONTAINER_IMAGE", "FUNCTION", "SBOM"] | None = None
    rescanWindowSeconds: Window | None = None
    enabled: bool = True
    startAt: str | None = None


class SchedulePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    intervalSeconds: Interval | None = None
    rescanWindowSeconds: Window | None = None
    enabled: bool | None = None
    nextRunAt: str | None = None


@router.post("/schedules", status_code=201)
def create_schedule(body: ScheduleIn, who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    start = parse_time(body.startAt) if body.startAt else None
    with s.engine.begin() as conn:
        return scheduler.create(conn, who, body.kind, body.intervalSeconds, body.resourceType,
                                body.rescanWindowSeconds, body.enabled, start)


@router.get("/schedules")
def list_schedules(who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    with s.engine.connect() as conn:
        return {"schedules": scheduler.list_all(conn, who)}


@router.get("/schedules/{schedule_id}")
def get_schedule(schedule_id: str, who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    with s.engine.connect() as conn:
        return scheduler.get(conn, who, schedule_id)


@router.patch("/schedules/{schedule_id}")
def update_schedule(schedule_id: str, body: SchedulePatch, who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    given = body.model_dump(exclude_unset=True)
    names = {"intervalSeconds": "interval_seconds", "rescanWindowSeconds": "rescan_window_seconds",
             "enabled": "enabled", "nextRunAt": "next_run_at"}
    changes = {names[k]: v for k, v in given.items() if v is not None or k == "rescanWindowSeconds"}
    if "next_run_at" in changes:
        changes["next_run_at"] = parse_time(changes["next_run_at"])
    with s.engine.begin() as conn:
        return scheduler.update(conn, who, schedule_id, changes)


@router.delete("/schedules/{schedule_id}", status_code=204)
def delete_schedule(schedule_id: str, who: ActorDep, s: SettingsDep) -> Response:
    with s.engine.begin() as conn:
        scheduler.delete(conn, who, schedule_id)
    return Response(status_code=204)


def _visible(who: Actor, job: dict[str, Any]) -> bool:
    # Jobs are system-wide rows; an account's admins see the ones acting for their account, the root's see all.
    return who.is_root or (job["payload"] or {}).get("accountId") == who.account_id


@router.get("/jobs")
def list_jobs(who: ActorDep, s: SettingsDep, status: Literal["QUEUED", "RUNNING", "SUCCEEDED", "FAILED"] | None = None,
              kind: Annotated[str | None, Query(max_length=32)] = None,
              maxResults: Annotated[int, Query(ge=1, le=500)] = 100,
              nextToken: Annotated[str | None, Query(max_length=2048)] = None) -> dict[str, Any]:
    """Newest first."""
    who.require_admin()
    scope = f"jobs|{status}|{kind}"
    after = decode_token(nextToken, scope, (str, str))
    q = sa.select(jobs)
    if not who.is_root:
        q = q.where(jobs.c.payload["accountId"].as_string() == who.account_id)
    if status:
        q = q.where(jobs.c.status == status)
    if kind:
        q = q.where(jobs.c.kind == kind)
    if after:
        q = q.where(sa.or_(jobs.c.created_at < after[0], sa.and_(jobs.c.created_at == after[0], jobs.c.id > after[1])))
    with s.engine.connect() as conn:
        rows = [store.wire(r) for r in conn.execute(q.order_by(jobs.c.created_at.desc(), jobs.c.id)
                                                    .limit(maxResults + 1)).mappings()]
    items, token = page(rows, maxResults, scope, lambda j: [j["createdAt"], j["jobId"]])
    return {"jobs": items, "nextToken": token}


@router.get("/jobs/{job_id}")
def get_job(job_id: str, who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    who.require_admin()
    with s.engine.connect() as conn:
        job = store.get(conn, job_id)
    if job is None or not _visible(who, job):
        raise NotFound(f"no job {job_id!r}")
    return job
