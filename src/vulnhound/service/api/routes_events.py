"""Events and webhooks: ``/v1/webhooks`` CRUD, deliveries and dead letters, replay, ``/v1/events`` paging."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from vulnhound.service.api.deps import ActorDep, SettingsDep
from vulnhound.service.events import webhooks

router = APIRouter(prefix="/v1", tags=["events"])

Url = Annotated[str, Field(min_length=1, max_length=2000)]
Value = Annotated[str, Field(min_length=1, max_length=200)]
Seq = Annotated[int, Field(ge=0, le=2**62)]  # bounded so that neither database refuses the comparison
Secret = Annotated[str, Field(min_length=16, max_length=200)]
Types = Annotated[list[Annotated[str, Field(min_length=1, max_length=100)]], Field(max_length=20)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WebhookFilter(_In):
    severity: Annotated[list[Value], Field(max_length=10)] = []
    resourceId: Annotated[list[Value], Field(max_length=100)] = []
    resourceType: Annotated[list[Value], Field(max_length=10)] = []


class WebhookIn(_In):
    url: Url
    secret: Secret | None = None
    eventTypes: Types = []
    filter: WebhookFilter = WebhookFilter()
    enabled: bool = True


class WebhookPatch(_In):
    url: Url | None = None
    secret: Secret | None = None
    rotateSecret: bool = False
    eventTypes: Types | None = None
    filter: WebhookFilter | None = None
    enabled: bool | None = None


class ReplayIn(_In):
    eventSeqs: Annotated[list[Seq], Field(min_length=1, max_length=10_000)] | None = None


@router.post("/webhooks", status_code=201)
def create_webhook(body: WebhookIn, who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    """Register a webhook; the answer carries its signing secret (generated unless given) once."""
    with s.engine.begin() as conn:
        return webhooks.create(conn, who, body.url, body.secret, body.eventTypes,
                               body.filter.model_dump(exclude_defaults=True), body.enabled)


@router.get("/webhooks")
def list_webhooks(who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    with s.engine.connect() as conn:
        return {"webhooks": webhooks.list_all(conn, who)}


@router.get("/webhooks/{webhook_id}")
def get_webhook(webhook_id: str, who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    with s.engine.connect() as conn:
        return webhooks.get(conn, who, webhook_id)


@router.patch("/webhooks/{webhook_id}")
def update_webhook(webhook_id: str, body: WebhookPatch, who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    if body.filter is not None:
        changes["filter"] = body.filter.model_dump(exclude_defaults=True)
    with s.engine.begin() as conn:
        return webhooks.update(conn, who, webhook_id, changes)


@router.delete("/webhooks/{webhook_id}", status_code=204)
def delete_webhook(webhook_id: str, who: ActorDep, s: SettingsDep) -> Response:
    with s.engine.begin() as conn:
        webhooks.delete(conn, who, webhook_id)
    return Response(status_code=204)


@router.get("/webhooks/{webhook_id}/deliveries")
def list_deliveries(webhook_id: str, who: ActorDep, s: SettingsDep,
                    status: Literal["PENDING", "DELIVERED", "DEAD"] | None = None,
                    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
                    maxResults: Annotated[int, Query(ge=1, le=1000)] = 100) -> dict[str, Any]:
    """Deliveries in event order; ``status=DEAD`` lists the dead letters. Page with ``after=<nextAfter>``."""
    with s.engine.connect() as conn:
        return webhooks.list_deliveries(conn, who, webhook_id, status, after, maxResults)


@router.post("/webhooks/{webhook_id}/deliveries/replay")
def replay_deliveries(webhook_id: str, who: ActorDep, s: SettingsDep, body: ReplayIn | None = None
                      ) -> dict[str, Any]:
    """Send dead letters again: the listed ``eventSeqs``, or (no body, or no list) every dead letter."""
    with s.engine.begin() as conn:
        return webhooks.replay(conn, who, webhook_id, body.eventSeqs if body else None)


@router.get("/events")
def list_events(who: ActorDep, s: SettingsDep, after: Annotated[int, Query(ge=0, le=2**62)] = 0,
                maxResults: Annotated[int, Query(ge=1, le=1000)] = 100,
                type: Annotated[str | None, Query(max_length=100)] = None) -> dict[str, Any]:
    """The account's events (CloudEvents envelopes) after a seq; poll with ``after=<nextAfter>``. ``type`` is an
    exact type or a prefix."""
    with s.engine.connect() as conn:
        return webhooks.list_events(conn, who, after, maxResults, type)
