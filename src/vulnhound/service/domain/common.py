"""What every domain module shares: the caller (``Actor``), time and id helpers, domain errors, the audit log."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from vulnhound.service.db.tables import audit_log

ROLES = ("admin", "member", "read-only")


@dataclass(frozen=True, slots=True)
class Actor:
    account_id: str
    key_id: str
    role: str
    is_root: bool = False

    def require_write(self) -> None:
        if self.role == "read-only":
            raise Forbidden("this API key is read-only")

    def require_admin(self) -> None:
        if self.role != "admin":
            raise Forbidden("this operation needs an admin API key")


class DomainError(Exception):
    status = 400
    title = "Bad request"

    def __init__(self, detail: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class Invalid(DomainError):
    status = 422
    title = "Invalid request"


def now() -> str:
    return iso(dt.datetime.now(dt.UTC))


def iso(when: dt.datetime) -> str:
    """The store's fixed-width UTC form; naive datetimes are taken as UTC."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> str:
    """A user-given date or datetime in the store's form; raises Invalid."""
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"not an ISO-8601 date or time: {text!r}") from None
    return iso(value)


def new_id() -> str:
    return secrets.token_hex(16)


def audit(conn: sa.Connection, actor: Actor | None, account_id: str, action: str, target: str | None,
          **detail: Any) -> None:
    conn.execute(audit_log.insert().values(account_id=account_id, at=now(), actor=actor.key_id if actor else "system",
                                           action=action, target=target, detail=detail))


def list_audit(conn: sa.Connection, actor: Actor, limit: int = 200) -> list[dict[str, Any]]:
    actor.require_admin()
    rows = conn.execute(sa.select(audit_log).where(audit_log.c.account_id == actor.account_id)
                        .order_by(audit_log.c.seq.desc()).limit(limit)).mappings()
    return [{"at": r["at"], "actor": r["actor"], "action": r["action"], "target": r["target"], "detail": r["detail"]}
            for r in rows]
