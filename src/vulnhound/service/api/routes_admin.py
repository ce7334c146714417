"""Accounts, API keys and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from vulnhound.service.api.deps import ActorDep, SettingsDep
from vulnhound.service.domain import accounts
from vulnhound.service.domain.common import decode_token, list_audit, page

router = APIRouter(prefix="/v1", tags=["accounts"])


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=200)]


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=200)]
    role: str = "member"


@router.post("/accounts", status_code=201)
def create_account(body: AccountIn, who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    with s.engine.begin() as conn:
        return accounts.create_account(conn, who, body.name)


@router.get("/accounts")
def list_accounts(who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    with s.engine.connect() as conn:
        return {"accounts": accounts.list_accounts(conn, who)}


@router.get("/account")
def my_account(who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    with s.engine.connect() as conn:
        return {**accounts.get_account(conn, who), "role": who.role, "keyId": who.key_id}


@router.post("/keys", status_code=201)
def create_key(body: KeyIn, who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    with s.engine.begin() as conn:
        return accounts.create_key(conn, who, body.name, body.role)


@router.get("/keys")
def list_keys(who: ActorDep, s: SettingsDep) -> dict[str, Any]:
    with s.engine.connect() as conn:
        return {"keys": accounts.list_keys(conn, who)}


@router.delete("/keys/{key_id}", status_code=204)
def revoke_key(key_id: str, who: ActorDep, s: SettingsDep) -> Response:
    with s.engine.begin() as conn:
        accounts.revoke_key(conn, who, key_id)
    return Response(status_code=204)


@router.get("/audit")
def audit_log(who: ActorDep, s: SettingsDep, maxResults: Annotated[int, Query(ge=1, le=1000)] = 200,
              nextToken: Annotated[str | None, Query(max_length=2048)] = None) -> dict[str, Any]:
    """Newest first."""
    before = decode_token(nextToken, "audit", (int,))
    with s.engine.connect() as conn:
        rows = list_audit(conn, who, maxResults + 1, before[0] if before else None)
    items, token = page(rows, maxResults, "audit", lambda r: [r["seq"]])
    return {"events": items, "nextToken": token}
