"""Webhooks per account: register, list, edit, delete; their event filter; dead letters, replay and delivery stats.

The secret is the HMAC-SHA256 key the receiver shares, so it is stored as given (not hashed) and shown only when
it is set. A new webhook receives events emitted after its creation.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa

from vulnhound.service.db.tables import deliveries, events, webhooks
from vulnhound.service.domain.common import Actor, Invalid, audit, new_id, now, owned_row
from vulnhound.service.events.outbox import TYPES

STATUSES = ("PENDING", "DELIVERED", "DEAD")
FILTER_KEYS = ("severity", "resourceId", "resourceType")
SEVERITIES = ("UNTRIAGED", "INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL")
MAX_PER_ACCOUNT = 100


def check_url(url: str) -> str:
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise Invalid("a webhook URL may not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError as exc:
        raise Invalid(f"not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(f"a webhook URL must be http:// or https:// with a host, not {url!r}")
    if parts.username or parts.password:
        raise Invalid("a webhook URL may not carry credentials; the signature authenticates the sender")
    return url


def check_types(types: list[str]) -> list[str]:
    """Exact type names, or prefixes ending in '.' (``vulnhound.finding.``); [] means every type."""
    for t in types:
        if t.endswith("."):
            if not any(name.startswith(t) for name in TYPES):
                raise Invalid(f"the prefix {t!r} matches no event type")
        elif t not in TYPES:
            raise Invalid(f"unknown event type {t!r}; known: {', '.join(TYPES)} (or a prefix ending in '.')")
    return sorted(set(types))


def check_filter(flt: dict[str, Any]) -> dict[str, list[str]]:
    """``{severity: [...], resourceId: [...], resourceType: [...]}``: each a list of allowed values."""
    out: dict[str, list[str]] = {}
    for key, values in flt.items():
        if key not in FILTER_KEYS:
            raise Invalid(f"unknown webhook filter field {key!r}; use {', '.join(FILTER_KEYS)}")
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values) or len(values) > 100:
            raise Invalid(f"webhook filter {key!r} must be a list of up to 100 strings")
        if key == "severity" and (bad := [v for v in values if v not in SEVERITIES]):
            raise Invalid(f"unknown severity {bad[0]!r}")
        if values:
            out[key] = sorted(set(values))
    return out


def _event_field(data: Any, subject: str | None, key: str) -> str | None:
    # Finding events carry the finding's wire form: ``severity`` at the top, the resource in ``resources[0]``;
    # other events may name ``resourceId``/``resourceType`` at the top. The subject is the resource id otherwise.
    if not isinstance(data, dict):
        return None
    if isinstance(data.get(key), str):
        return str(data[key])
    res = data.get("resources")
    if key in ("resourceId", "resourceType") and isinstance(res, list) and res and isinstance(res[0], dict):
        value = res[0].get("id" if key == "resourceId" else "type")
        if isinstance(value, str):
            return value
    return subject if key == "resourceId" else None


def accepts(types: list[str], flt: dict[str, list[str]], type_: str, subject: str | None, data: Any) -> bool:
    """Does a webhook with this type list and filter want the event? Severity filters finding events only; an
    event without the field a filter names is not wanted (a CRITICAL-only hook does not get unknown severities)."""
    if types and not any(type_ == t or (t.endswith(".") and type_.startswith(t)) for t in types):
        return False
    for key, allowed in flt.items():
        if key == "severity" and not type_.startswith("vulnhound.finding."):
            continue
        if _event_field(data, subject, key) not in allowed:
            return False
    return True


def _wire(row: Any, stats: dict[str, Any] | None = None) -> dict[str, Any]:
    out = {"webhookId": row["id"], "url": row["url"], "eventTypes": row["event_types"], "filter": row["filter"],
           "enabled": row["enabled"], "createdAt": row["created_at"], "position": row["position"]}
    if stats is not None:
        out["deliveryStats"] = stats
    return out


def _row(conn: sa.Connection, actor: Actor, wid: str) -> Any:
    return owned_row(conn, webhooks, actor, wid, "webhook")


def stats(conn: sa.Connection, wids: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {w: {s: 0 for s in STATUSES} | {"lastDeliveredAt": None} for w in wids}
    if not wids:
        return out
    q = (sa.select(deliveries.c.webhook_id, deliveries.c.status, sa.func.count(),
                   sa.func.max(deliveries.c.delivered_at))
         .where(deliveries.c.webhook_id.in_(wids)).group_by(deliveries.c.webhook_id, deliveries.c.status))
    for wid, status, n, last in conn.execute(q):
        out[wid][status] = n
        if last and (out[wid]["lastDeliveredAt"] or "") < last:
            out[wid]["lastDeliveredAt"] = last
    return out


def create(conn: sa.Connection, actor: Actor, url: str, secret: str | None = None, event_types: list[str] | None = None,
           flt: dict[str, Any] | None = None, enabled: bool = True) -> dict[str, Any]:
    actor.require_write()
    count = conn.execute(sa.select(sa.func.count()).select_from(webhooks)
                         .where(webhooks.c.account_id == actor.account_id)).scalar_one()
    if count >= MAX_PER_ACCOUNT:
        raise Invalid(f"an account may have at most {MAX_PER_ACCOUNT} webhooks")
    wid = new_id()
    secret = _check_secret(secret) if secret is not None else "whsec_" + secrets.token_urlsafe(32)
    # Start after the newest event: a new webhook hears what happens from now on, not the account's history.
    position = conn.execute(sa.select(sa.func.coalesce(sa.func.max(events.c.seq), 0))).scalar_one()
    conn.execute(webhooks.insert().values(
        id=wid, account_id=actor.account_id, url=check_url(url), secret=secret,
        event_types=check_types(event_types or []), filter=check_filter(flt or {}), enabled=enabled,
        created_at=now(), position=position))
    audit(conn, actor, actor.account_id, "webhook.create", wid, url=url)
    return {**get(conn, actor, wid), "secret": secret}


def _check_secret(secret: str) -> str:
    if not 16 <= len(secret) <= 200:
        raise Invalid("a webhook secret must be 16 to 200 characters")
    return secret


def get(conn: sa.Connection, actor: Actor, wid: str) -> dict[str, Any]:
    return _wire(_row(conn, actor, wid), stats(conn, [wid])[wid])


def list_all(conn: sa.Connection, actor: Actor) -> list[dict[str, Any]]:
    rows = conn.execute(sa.select(webhooks).where(webhooks.c.account_id == actor.account_id)
                        .order_by(webhooks.c.created_at, webhooks.c.id)).mappings().all()
    st = stats(conn, [r["id"] for r in rows])
    return [_wire(r, st[r["id"]]) for r in rows]


def update(conn: sa.Connection, actor: Actor, wid: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Changes: url, secret, rotateSecret (true → a new generated secret, returned once), eventTypes, filter,
    enabled. Pending deliveries are sent with the new URL and secret. A disabled webhook neither collects nor
    sends; enabled again, it catches up on what happened meanwhile, in order."""
    actor.require_write()
    _row(conn, actor, wid)
    values: dict[str, Any] = {}
    if changes.get("url") is not None:
        values["url"] = check_url(changes["url"])
    if changes.get("eventTypes") is not None:
        values["event_types"] = check_types(changes["eventTypes"])
    if changes.get("filter") is not None:
        values["filter"] = check_filter(changes["filter"])
    if changes.get("enabled") is not None:
        values["enabled"] = bool(changes["enabled"])
    if changes.get("secret") is not None:
        values["secret"] = _check_secret(changes["secret"])
    elif changes.get("rotateSecret"):
        values["secret"] = "whsec_" + secrets.token_urlsafe(32)
    if values:
        conn.execute(sa.update(webhooks).where(webhooks.c.id == wid, webhooks.c.account_id == actor.account_id)
                     .values(**values))
    audit(conn, actor, actor.account_id, "webhook.update", wid, changes=sorted(k for k in changes if k != "secret"))
    out = get(conn, actor, wid)
    if "secret" in values:
        out["secret"] = values["secret"]
    return out


def delete(conn: sa.Connection, actor: Actor, wid: str) -> None:
    actor.require_write()
    _row(conn, actor, wid)
    conn.execute(deliveries.delete().where(deliveries.c.webhook_id == wid))
    conn.execute(webhooks.delete().where(webhooks.c.id == wid, webhooks.c.account_id == actor.account_id))
    audit(conn, actor, actor.account_id, "webhook.delete", wid)


def list_deliveries(conn: sa.Connection, actor: Actor, wid: str, status: str | None = None, after: int = 0,
                    limit: int = 100) -> dict[str, Any]:
    """Deliveries by event seq (keyset paging on ``after``); ``status=DEAD`` is the dead-letter list."""
    _row(conn, actor, wid)
    if status is not None and status not in STATUSES:
        raise Invalid(f"unknown delivery status {status!r}; use {', '.join(STATUSES)}")
    q = (sa.select(deliveries, events.c.id.label("event_id"), events.c.type, events.c.time)
         .join(events, events.c.seq == deliveries.c.event_seq)
         .where(deliveries.c.webhook_id == wid, deliveries.c.account_id == actor.account_id,
                deliveries.c.event_seq > after).order_by(deliveries.c.event_seq).limit(limit + 1))
    if status:
        q = q.where(deliveries.c.status == status)
    rows = conn.execute(q).mappings().all()
    page = rows[:limit]
    return {"deliveries": [{"eventSeq": r["event_seq"], "eventId": r["event_id"], "type": r["type"],
                            "subject": r["subject"], "eventTime": r["time"], "status": r["status"],
                            "attempts": r["attempts"], "nextAttemptAt": r["next_attempt_at"] if r["status"] ==
                            "PENDING" else None, "lastError": r["last_error"], "deliveredAt": r["delivered_at"]}
                           for r in page],
            "nextAfter": page[-1]["event_seq"] if len(rows) > limit else None}


def replay(conn: sa.Connection, actor: Actor, wid: str, seqs: list[int] | None = None) -> dict[str, int]:
    """Dead letters (the listed ones, or all) back to PENDING with fresh attempts; per-resource order applies again
    among pending deliveries. Seqs that are not dead letters of this webhook are counted as skipped."""
    actor.require_write()
    _row(conn, actor, wid)
    scope = [deliveries.c.webhook_id == wid, deliveries.c.account_id == actor.account_id,
             deliveries.c.status == "DEAD"]
    if seqs is not None:
        scope.append(deliveries.c.event_seq.in_(seqs))
    n = conn.execute(sa.update(deliveries).where(*scope).values(
        status="PENDING", attempts=0, next_attempt_at=now(), last_error=None)).rowcount
    audit(conn, actor, actor.account_id, "webhook.replay", wid, replayed=n)
    return {"replayed": n, "skipped": (len(set(seqs)) - n) if seqs is not None else 0}


def list_events(conn: sa.Connection, actor: Actor, after: int = 0, limit: int = 100,
                type_prefix: str | None = None) -> dict[str, Any]:
    """The account's events in seq order (CloudEvents envelopes), keyset-paged by seq. A convenience for polling:
    on PostgreSQL an event whose transaction commits late can appear below a ``nextAfter`` already returned;
    webhooks and NATS publishing follow the outbox's safe watermark and never skip one."""
    from vulnhound.service.events.outbox import envelope

    q = (sa.select(events).where(events.c.account_id == actor.account_id, events.c.seq > after)
         .order_by(events.c.seq).limit(limit + 1))
    if type_prefix:
        q = q.where(events.c.type.startswith(type_prefix, autoescape=True))
    rows = conn.execute(q).mappings().all()
    page = rows[:limit]
    return {"events": [envelope(r) for r in page], "nextAfter": page[-1]["seq"] if page else after,
            "hasMore": len(rows) > limit}
