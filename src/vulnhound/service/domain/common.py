"""What every domain module shares: the caller (``Actor``), time and id helpers, domain errors, the audit log."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
from collections.abc import Callable
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
        return iso(dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
    except (ValueError, OverflowError):  # OverflowError: year 1 with a positive offset falls before year 1 in UTC
        raise Invalid(f"not an ISO-8601 date or time in years 1-9999: {text[:100]!r}") from None


def owned_row(conn: sa.Connection, table: sa.Table, actor: Actor, row_id: str, what: str,
              *where: sa.ColumnElement[bool]) -> Any:
    """The caller's account's row of ``table`` with this id (and ``where``), else NotFound: another tenant's ids
    answer exactly like missing ones."""
    row = conn.execute(sa.select(table).where(table.c.id == row_id, table.c.account_id == actor.account_id, *where)
                       ).mappings().first()
    if row is None:
        raise NotFound(f"no {what} {row_id!r}")
    return row


def new_id() -> str:
    return secrets.token_hex(16)


def audit(conn: sa.Connection, actor: Actor | None, account_id: str, action: str, target: str | None,
          **detail: Any) -> None:
    conn.execute(audit_log.insert().values(account_id=account_id, at=now(), actor=actor.key_id if actor else "system",
                                           action=action, target=target, detail=detail))


def list_audit(conn: sa.Connection, actor: Actor, limit: int = 200, before: int | None = None
               ) -> list[dict[str, Any]]:
    """Newest first; ``before``: only entries older than that sequence number (the keyset of the next page)."""
    actor.require_admin()
    q = sa.select(audit_log).where(audit_log.c.account_id == actor.account_id)
    if before is not None:
        q = q.where(audit_log.c.seq < before)
    rows = conn.execute(q.order_by(audit_log.c.seq.desc()).limit(limit)).mappings()
    return [{"seq": r["seq"], "at": r["at"], "actor": r["actor"], "action": r["action"], "target": r["target"],
             "detail": r["detail"]} for r in rows]


# -- keyset cursors for the GET list endpoints (findings have their own, bound to FilterCriteria) ----------------

def _scope_hash(scope: str) -> str:
    return hashlib.sha256(scope.encode()).hexdigest()[:12]


def encode_token(scope: str, key: list[str | int]) -> str:
    """An opaque ``nextToken``: the last row's sort key, bound to the listing (``scope``: endpoint and filters)."""
    raw = json.dumps({"k": key, "h": _scope_hash(scope)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _fits(value: Any, kind: type) -> bool:
    # exact types: a bool is no int; bounded so that neither database refuses the comparison
    if type(value) is not kind:
        return False
    if isinstance(value, str):
        return len(value) <= 200 and "\x00" not in value
    return isinstance(value, int) and abs(value) < 2**62


def decode_token(token: str | None, scope: str, types: tuple[type, ...]) -> list[Any] | None:
    """The sort key of ``token`` (None without one); Invalid when garbage, mistyped or from another listing."""
    if not token:
        return None
    try:
        doc = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        key, h = doc["k"], doc["h"]
        if not isinstance(key, list) or len(key) != len(types) or not all(map(_fits, key, types)):
            raise ValueError
    except (ValueError, KeyError, TypeError):
        raise Invalid("invalid nextToken") from None
    if h != _scope_hash(scope):
        raise Invalid("nextToken belongs to another listing (other endpoint or filters)")
    return key


def page(rows: list[Any], limit: int, scope: str, key: Callable[[Any], list[str | int]]
         ) -> tuple[list[Any], str | None]:
    """(the first ``limit`` rows, the token after them or None): callers fetch ``limit + 1`` rows."""
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], encode_token(scope, key(rows[limit - 1]))
