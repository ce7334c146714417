"""How a request hands work to the job system: submit the job (committed first), then wait a bounded time so that
a quick scan still answers with its result; without an executor the request thread runs the job itself."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import sqlalchemy as sa

from vulnhound.service.jobs import store
from vulnhound.service.jobs.interface import JobContext
from vulnhound.service.jobs.runner import run_job

if TYPE_CHECKING:
    from vulnhound.advisories.store.query import KnowledgeBase
    from vulnhound.service.api.deps import Settings


def _no_kb() -> KnowledgeBase:
    raise RuntimeError("this server has no knowledge-base factory for jobs")


def context_of(s: Settings) -> JobContext:
    return s.jobs if s.jobs is not None else JobContext(engine=s.engine, index=s.index, kb=_no_kb)


def wait_done(engine: sa.Engine, job_id: str, timeout: float) -> str | None:
    """The job's status once finished, or its live status when ``timeout`` runs out."""
    deadline, pause = time.monotonic() + timeout, 0.005
    while True:
        status = store.status_of(engine, job_id)
        if status in store.DONE or time.monotonic() >= deadline:
            return status
        time.sleep(pause)
        pause = min(pause * 2, 0.05)


def dispatch(s: Settings, job_id: str) -> None:
    """Run or submit a committed job; with an executor, wait up to ``s.job_wait`` seconds for it."""
    from vulnhound.service.jobs.inprocess import InProcessExecutor

    ctx = context_of(s)
    if ctx.executor is None:
        run_job(ctx, job_id)
    elif isinstance(ctx.executor, InProcessExecutor) and s.job_wait > 0:
        ctx.executor.submit_wait(job_id, s.job_wait)
    else:
        ctx.submit(job_id)
        if s.job_wait > 0:
            wait_done(s.engine, job_id, s.job_wait)


def scan_job(conn: sa.Connection, account_id: str, scan_id: str) -> str:
    """The job that runs a queued scan, in the transaction that created the scan."""
    return store.enqueue(conn, "scan", {"scanId": scan_id, "accountId": account_id}, dedupe_key=f"scan:{scan_id}")
