"""The one registry of job kinds → handlers. A handler is idempotent: run twice, the second run changes nothing.

Re-evaluation (``service.continuous``) and webhook delivery (``service.events.delivery``) are imported inside their
handlers: a worker pays for them only when it runs them. ``VULNHOUND_TEST_HANDLERS=1`` adds a ``sleep`` kind that
only the fault tests enqueue.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa

from vulnhound.service.jobs.interface import Handler, JobContext


def scan(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    from vulnhound.service.db.tables import scans
    from vulnhound.service.domain.scans import run_scan

    with ctx.engine.connect() as conn:
        if conn.execute(sa.select(scans.c.id).where(scans.c.id == payload["scanId"])).first() is None:
            return {"scanId": payload["scanId"], "skipped": "the scan no longer exists"}  # its resource was purged
    run_scan(ctx.engine, ctx.index, payload["scanId"])
    with ctx.engine.connect() as conn:
        status = conn.execute(sa.select(scans.c.status).where(scans.c.id == payload["scanId"])).scalar()
    return {"scanId": payload["scanId"], "status": status}


def reevaluate(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    from vulnhound.service.continuous.reevaluate import handle_incremental

    out: dict[str, Any] = handle_incremental(cast(Any, ctx), payload)
    return out


def reevaluate_slice(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    from vulnhound.service.continuous.reevaluate import handle_slice

    out: dict[str, Any] = handle_slice(cast(Any, ctx), payload)
    return out


def full_reevaluation(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    from vulnhound.service.continuous.reevaluate import handle_full

    out: dict[str, Any] = handle_full(cast(Any, ctx), payload)
    return out


def deliver_webhooks(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    from vulnhound.service.events.delivery import handle

    out: dict[str, Any] = handle(ctx, payload)
    return out


def db_update(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Update the knowledge base from the server's configured mirror (or upstream), then queue a re-evaluation.

    The mirror and sources come from the server's settings, never from the payload: tenants schedule this job.
    """
    from vulnhound.service.jobs.store import enqueue

    kb = ctx.kb()
    sources = list(ctx.settings.sources) or None
    if ctx.settings.mirror is not None:
        from vulnhound.advisories.store.update import update_from_mirror

        results = update_from_mirror(kb.engine, Path(ctx.settings.mirror), only=sources)
    else:
        import httpx

        from vulnhound.advisories.feeds.registry import by_name
        from vulnhound.advisories.store.update import update_upstream

        with httpx.Client(timeout=httpx.Timeout(60.0, connect=15.0), follow_redirects=True) as client:
            results = update_upstream(kb.engine, by_name(sources), client)
    changed = [r for r in results if r.op_id is not None and r.mode != "unchanged"]
    follow = None
    if changed:
        with ctx.engine.begin() as conn:
            follow = enqueue(conn, "reevaluate", {"operations": [r.op_id for r in changed]}, dedupe_key="reevaluate")
        ctx.submit(follow)
    failed = [r.source for r in results if r.mode == "failed"]
    if failed and not changed:
        raise RuntimeError(f"knowledge-base update failed for {', '.join(failed)}")
    return {"sources": {r.source: r.mode for r in results}, "reevaluateJob": follow}


def schedule_tick(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    from vulnhound.service.jobs.scheduler import run_schedule

    return run_schedule(ctx, payload["scheduleId"], payload.get("dueAt"))


def _sleep(ctx: JobContext, payload: dict[str, Any]) -> dict[str, Any]:
    """Test only: sleep, then write one effect row (idempotent: an effect already written is not written again)."""
    from vulnhound.service.db.tables import audit_log
    from vulnhound.service.domain.common import now

    time.sleep(float(payload.get("seconds", 1)))
    key = payload["effect"]
    with ctx.engine.begin() as conn:
        done = conn.execute(sa.select(sa.func.count()).select_from(audit_log).where(
            audit_log.c.action == "test.effect", audit_log.c.target == key)).scalar()
        if not done:
            conn.execute(audit_log.insert().values(account_id=payload["accountId"], at=now(), actor="system",
                                                   action="test.effect", target=key,
                                                   detail={"pid": os.getpid()}))
    return {"effect": key, "pid": os.getpid()}


HANDLERS: dict[str, Handler] = {
    "scan": scan,
    "reevaluate": reevaluate,
    "reevaluate-slice": reevaluate_slice,
    "full-reevaluation": full_reevaluation,
    "deliver-webhooks": deliver_webhooks,
    "db-update": db_update,
    "schedule-tick": schedule_tick,
}


def handler_for(kind: str) -> Handler | None:
    if kind == "sleep" and os.environ.get("VULNHOUND_TEST_HANDLERS") == "1":
        return _sleep
    return HANDLERS.get(kind)
