"""Schedules (rescans per resource type, the image rescan window, scheduled ``db update``, full re-evaluation) and
the ticker that turns due schedules into jobs and re-submits lost jobs.

Due work is enqueued exactly once even with several tickers: a ticker owns a run only if its
``UPDATE schedules SET next_run_at = new WHERE id = ? AND next_run_at = old`` changed the row.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any

import sqlalchemy as sa

from vulnhound.service.db.tables import resources, scans, schedules
from vulnhound.service.domain.common import Actor, Forbidden, Invalid, audit, iso, new_id, now, owned_row
from vulnhound.service.jobs import store
from vulnhound.service.jobs.interface import JobContext

log = logging.getLogger("vulnhound.jobs")

KINDS = ("RESCAN", "DB_UPDATE", "FULL_REEVALUATION")
SYSTEM_KINDS = ("DB_UPDATE", "FULL_REEVALUATION")  # the knowledge base is shared: the root account's admins only
RESOURCE_TYPES = ("HOST", "CONTAINER_IMAGE", "FUNCTION", "SBOM")
EXPIRED = ("INACTIVE", "SCAN_ELIGIBILITY_EXPIRED")  # Inspector's reason when an image leaves its rescan window
FRESH_KINDS = ("PUSH", "TARGET")  # new content; a RESCAN of a stored snapshot does not extend the window


def _parse(ts: str) -> dt.datetime:
    return dt.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)


def _wire(r: Any) -> dict[str, Any]:
    return {"scheduleId": r["id"], "kind": r["kind"], "resourceType": r["resource_type"],
            "intervalSeconds": r["interval_seconds"], "rescanWindowSeconds": r["rescan_window_seconds"],
            "enabled": r["enabled"], "nextRunAt": r["next_run_at"], "lastRunAt": r["last_run_at"],
            "createdAt": r["created_at"], "params": r["params"]}


def _check(actor: Actor, kind: str, resource_type: str | None, window: int | None) -> None:
    actor.require_write()
    if kind not in KINDS:
        raise Invalid(f"kind must be one of {', '.join(KINDS)}")
    if kind in SYSTEM_KINDS and not (actor.is_root and actor.role == "admin"):
        raise Forbidden(f"{kind} schedules act on the shared knowledge base: the root account's admins only")
    if resource_type is not None and (kind != "RESCAN" or resource_type not in RESOURCE_TYPES):
        raise Invalid("resourceType applies to RESCAN schedules: " + ", ".join(RESOURCE_TYPES))
    if window is not None and not (kind == "RESCAN" and resource_type == "CONTAINER_IMAGE"):
        raise Invalid("rescanWindowSeconds applies to RESCAN schedules of CONTAINER_IMAGE resources")


def create(conn: sa.Connection, actor: Actor, kind: str, interval: int, resource_type: str | None = None,
           window: int | None = None, enabled: bool = True, start_at: str | None = None) -> dict[str, Any]:
    _check(actor, kind, resource_type, window)
    sid, at = new_id(), now()
    conn.execute(schedules.insert().values(
        id=sid, account_id=actor.account_id, kind=kind, resource_type=resource_type, interval_seconds=interval,
        rescan_window_seconds=window, params={}, enabled=enabled, next_run_at=start_at or at, created_at=at))
    audit(conn, actor, actor.account_id, "schedule.create", sid, kind=kind, resourceType=resource_type)
    return get(conn, actor, sid)


def _row(conn: sa.Connection, actor: Actor, sid: str) -> Any:
    return owned_row(conn, schedules, actor, sid, "schedule")


def get(conn: sa.Connection, actor: Actor, sid: str) -> dict[str, Any]:
    return _wire(_row(conn, actor, sid))


def list_all(conn: sa.Connection, actor: Actor) -> list[dict[str, Any]]:
    q = sa.select(schedules).where(schedules.c.account_id == actor.account_id).order_by(schedules.c.created_at,
                                                                                      schedules.c.id)
    return [_wire(r) for r in conn.execute(q).mappings()]


def update(conn: sa.Connection, actor: Actor, sid: str, changes: dict[str, Any]) -> dict[str, Any]:
    row = _row(conn, actor, sid)
    window = changes.get("rescan_window_seconds", row["rescan_window_seconds"])
    _check(actor, row["kind"], row["resource_type"], window)
    if changes:
        conn.execute(sa.update(schedules).where(schedules.c.id == sid).values(**changes))
        audit(conn, actor, actor.account_id, "schedule.update", sid, fields=sorted(changes))
    return get(conn, actor, sid)


def delete(conn: sa.Connection, actor: Actor, sid: str) -> None:
    row = _row(conn, actor, sid)
    _check(actor, row["kind"], row["resource_type"], row["rescan_window_seconds"])
    conn.execute(sa.delete(schedules).where(schedules.c.id == sid))
    audit(conn, actor, actor.account_id, "schedule.delete", sid)


def enqueue_due(engine: sa.Engine, at: dt.datetime | None = None) -> list[str]:
    """Claim every due schedule's run (row-level, so two tickers never both get it) and queue its job."""
    when = at or dt.datetime.now(dt.UTC)
    stamp = iso(when)
    out: list[str] = []
    with engine.connect() as conn:
        due = conn.execute(sa.select(schedules.c.id, schedules.c.next_run_at, schedules.c.interval_seconds).where(
            schedules.c.enabled.is_(True), schedules.c.next_run_at <= stamp)).all()
    for sid, old, interval in due:
        nxt = _parse(old) + dt.timedelta(seconds=interval)
        if nxt <= when:  # the service was down for a while: one run now, not one per missed interval
            nxt = when + dt.timedelta(seconds=interval)
        with engine.begin() as conn:
            won = conn.execute(sa.update(schedules).where(schedules.c.id == sid, schedules.c.next_run_at == old)
                               .values(next_run_at=iso(nxt), last_run_at=stamp)).rowcount == 1
            if won:
                out.append(store.enqueue(conn, "schedule-tick", {"scheduleId": sid, "dueAt": old},
                                         dedupe_key=f"schedule:{sid}:{old}"))
    return out


def _system(account_id: str) -> Actor:
    return Actor(account_id=account_id, key_id="system", role="admin")


def _last_fresh(conn: sa.Connection, rid: str, created: str) -> str:
    last = conn.execute(sa.select(sa.func.max(scans.c.created_at)).where(
        scans.c.resource_id == rid, scans.c.kind.in_(FRESH_KINDS))).scalar()
    return str(last or created)


def close_out_of_window(conn: sa.Connection, account_id: str, row: Any, window: int, at: dt.datetime) -> int | None:
    """An image whose last push (or collected scan) is older than the window: close its open findings
    OUT_OF_WINDOW and mark its coverage expired. None when the image is still inside its window."""
    from vulnhound.service.domain.lifecycle import close_all

    if _last_fresh(conn, row["id"], row["created_at"]) >= iso(at - dt.timedelta(seconds=window)):
        return None
    closed = close_all(conn, account_id, row["id"], "OUT_OF_WINDOW", iso(at))
    if (row["scan_status"], row["scan_reason"]) != EXPIRED:
        days = window / 86400
        conn.execute(sa.update(resources).where(resources.c.id == row["id"]).values(
            scan_status=EXPIRED[0], scan_reason=EXPIRED[1],
            scan_message=f"no new push or scan for more than the rescan window ({days:g} days)"))
    return closed


def _rescan(ctx: JobContext, sched: Any, due_at: str) -> dict[str, Any]:
    from vulnhound.service.domain.scans import _insert

    account = sched["account_id"]
    q = sa.select(resources).where(resources.c.account_id == account, resources.c.deleted_at.is_(None))
    if sched["resource_type"]:
        q = q.where(resources.c.type == sched["resource_type"])
    at = dt.datetime.now(dt.UTC)
    counts = {"rescans": 0, "skipped": 0, "outOfWindow": 0, "findingsClosed": 0}
    queued: list[str] = []
    with ctx.engine.connect() as conn:
        rows = list(conn.execute(q.order_by(resources.c.id)).mappings())
    for row in rows:
        with ctx.engine.begin() as conn:
            window = sched["rescan_window_seconds"]
            if window and row["type"] == "CONTAINER_IMAGE":
                closed = close_out_of_window(conn, account, row, window, at)
                if closed is not None:
                    counts["outOfWindow"] += 1
                    counts["findingsClosed"] += closed
                    continue
            # Idempotent on a re-run of this tick: a resource scanned since the run fell due is fresh enough.
            recent = conn.execute(sa.select(scans.c.id).where(scans.c.resource_id == row["id"],
                                                              scans.c.created_at >= due_at).limit(1)).first()
            last = conn.execute(sa.select(scans.c.kind, scans.c.target).where(
                scans.c.resource_id == row["id"], scans.c.status == "COMPLETED").order_by(
                scans.c.created_at.desc()).limit(1)).first()
            if recent is not None or last is None:
                counts["skipped"] += 1
                continue
            if last.kind == "TARGET":  # collected by the server: collect again
                scan_id = _insert(conn, _system(account), row["id"], "TARGET", last.target, None)
            elif row["inventory_sha256"]:  # pushed: re-match the stored snapshot against today's advisories
                scan_id = _insert(conn, _system(account), row["id"], "RESCAN", None, row["inventory_sha256"])
            else:
                counts["skipped"] += 1
                continue
            queued.append(store.enqueue(conn, "scan", {"scanId": scan_id, "accountId": account},
                                        dedupe_key=f"scan:{scan_id}"))
            counts["rescans"] += 1
    for jid in queued:
        ctx.submit(jid)
    return counts


def run_schedule(ctx: JobContext, schedule_id: str, due_at: str | None = None) -> dict[str, Any]:
    """One due run of a schedule (the ``schedule-tick`` job)."""
    with ctx.engine.connect() as conn:
        sched = conn.execute(sa.select(schedules).where(schedules.c.id == schedule_id)).mappings().first()
    if sched is None or not sched["enabled"]:
        return {"skipped": "the schedule was deleted or disabled"}
    if sched["kind"] == "RESCAN":
        return {"kind": "RESCAN", **_rescan(ctx, sched, due_at or now())}
    kind = "db-update" if sched["kind"] == "DB_UPDATE" else "full-reevaluation"
    with ctx.engine.begin() as conn:
        jid = store.enqueue(conn, kind, {"scheduleId": schedule_id}, dedupe_key=kind)
    ctx.submit(jid)
    return {"kind": sched["kind"], "job": jid}


class Ticker:
    """Every ``interval`` seconds: queue due schedules' jobs, and re-submit jobs whose message may be lost."""

    def __init__(self, ctx: JobContext, interval: float = 5.0, stale: float = 120.0, watch_kb: bool = True) -> None:
        self.ctx, self.interval, self.stale, self.watch_kb = ctx, interval, stale, watch_kb
        self._sent: dict[str, float] = {}  # job id → when this ticker last re-submitted it
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> dict[str, int]:
        queued = enqueue_due(self.ctx.engine)
        if self.watch_kb:
            queued += self._kb_changed()
        for jid in queued:
            self.ctx.submit(jid)
        clock = time.monotonic()
        resent = 0
        for jid in store.lost(self.ctx.engine, self.stale):
            if clock - self._sent.get(jid, -1e18) >= self.stale:
                self._sent[jid] = clock
                self.ctx.submit(jid)
                resent += 1
        self._sent = {j: t for j, t in self._sent.items() if clock - t < self.stale}
        return {"scheduled": len(queued), "resubmitted": resent}

    def _kb_changed(self) -> list[str]:
        """A knowledge-base update made outside the server (CLI, cron) still re-evaluates the fleet."""
        from vulnhound.service.continuous.reevaluate import behind

        try:
            kb = self.ctx.kb()
        except Exception:  # no knowledge base yet: nothing to re-evaluate
            return []
        if not behind(self.ctx.engine, kb):
            return []
        with self.ctx.engine.begin() as conn:
            return [store.enqueue(conn, "reevaluate", {"trigger": "kb-watch"}, dedupe_key="reevaluate")]

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except Exception as exc:  # the database is away: try again next tick
                log.warning("scheduler tick failed: %s", exc)

    def start(self) -> Ticker:
        self._thread = threading.Thread(target=self._loop, daemon=True, name="vulnhound-ticker")
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
