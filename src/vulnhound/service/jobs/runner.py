"""``run_job``: claim → handler → finish, with a heartbeat that keeps the lease while the handler runs. Idempotent:
a job id delivered twice (a redelivered message, a sweeper's re-submission) runs at most once at a time, and a
finished job never runs again.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import traceback

from vulnhound.service.jobs import store
from vulnhound.service.jobs.handlers import handler_for
from vulnhound.service.jobs.interface import JobContext

log = logging.getLogger("vulnhound.jobs")


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def _beat(ctx: JobContext, c: store.Claim, stop: threading.Event) -> None:
    lease = ctx.settings.lease_seconds
    while not stop.wait(lease / 3):
        try:
            if not store.heartbeat(ctx.engine, c, lease):
                return  # taken over: the handler's outcome will be fenced off
        except Exception as exc:  # the database is away: the lease may lapse, the job then runs again
            log.warning("job %s: heartbeat failed: %s", c.id, exc)


def run_job(ctx: JobContext, job_id: str, worker: str | None = None) -> str:
    """Run one job if it can be claimed; returns what happened: skipped | succeeded | retry | failed."""
    c = store.claim(ctx.engine, job_id, worker or worker_name(), ctx.settings.lease_seconds)
    if c is None:
        return "skipped"
    handler = handler_for(c.kind)
    if handler is None:
        store.give_up(ctx.engine, c, f"unknown job kind {c.kind!r}")
        return "failed"
    if c.attempts > c.max_attempts:
        store.give_up(ctx.engine, c, f"lost its worker {c.attempts - 1} times")
        return "failed"
    stop = threading.Event()
    beat = threading.Thread(target=_beat, args=(ctx, c, stop), daemon=True, name=f"lease-{job_id[:8]}")
    beat.start()
    try:
        result = handler(ctx, c.payload)
    except Exception as exc:
        stop.set()
        log.warning("job %s (%s) attempt %d failed: %s", job_id, c.kind, c.attempts, exc)
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=8)}"
        try:
            delay = store.fail(ctx.engine, c, error, ctx.settings.retry_base_seconds, ctx.settings.retry_cap_seconds)
        except Exception as again:  # cannot even record it: the lease lapses and the sweeper re-submits
            log.warning("job %s: cannot record the failure: %s", job_id, again)
            return "retry"
        if delay is None:
            return "failed"
        ctx.submit(job_id, delay)
        return "retry"
    finally:
        stop.set()
    beat.join(timeout=5)
    store.finish(ctx.engine, c, result)
    return "succeeded"
