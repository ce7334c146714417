"""The jobs table: enqueue (deduplicated), claim with a lease (atomic UPDATE … WHERE), heartbeat, finish, fail with
backoff. Every write after the claim is fenced on (worker, attempts), so a worker that lost its lease cannot
overwrite the outcome of the one that took the job over.

For a QUEUED job ``lease_until`` means "not before" (the retry backoff); for a RUNNING one, the lease.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from vulnhound.service.db.tables import jobs
from vulnhound.service.domain.common import iso, new_id, now

LIVE = ("QUEUED", "RUNNING")
DONE = ("SUCCEEDED", "FAILED")


@dataclass(frozen=True, slots=True)
class Claim:
    id: str
    kind: str
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    worker: str


def _at(offset: float) -> str:
    return iso(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=offset))


def enqueue(conn: sa.Connection, kind: str, payload: dict[str, Any], dedupe_key: str | None = None,
            max_attempts: int = 5) -> str:
    """A new QUEUED job in the caller's transaction, or the id of the live job with the same dedupe key."""
    if dedupe_key is not None:
        if conn.dialect.name == "postgresql":
            # Two enqueuers of the same key would both miss each other's uncommitted row: serialize them.
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": dedupe_key})
        live = conn.execute(sa.select(jobs.c.id).where(jobs.c.dedupe_key == dedupe_key, jobs.c.status.in_(LIVE))
                            .limit(1)).scalar()
        if live is not None:
            return str(live)
    jid = new_id()
    conn.execute(jobs.insert().values(id=jid, kind=kind, payload=payload, dedupe_key=dedupe_key, status="QUEUED",
                                      attempts=0, max_attempts=max_attempts, created_at=now()))
    return jid


def claim(engine: sa.Engine, job_id: str, worker: str, lease: float) -> Claim | None:
    """Take the job: QUEUED (and past its backoff), or RUNNING past its lease (its worker died). None: not ours."""
    at = now()
    with engine.begin() as conn:
        taken = conn.execute(sa.update(jobs).where(
            jobs.c.id == job_id,
            sa.or_(sa.and_(jobs.c.status == "QUEUED", sa.or_(jobs.c.lease_until.is_(None), jobs.c.lease_until <= at)),
                   sa.and_(jobs.c.status == "RUNNING", jobs.c.lease_until < at)),
        ).values(status="RUNNING", attempts=jobs.c.attempts + 1, worker=worker, started_at=at,
                 lease_until=_at(lease))).rowcount
        if taken != 1:
            return None
        row = conn.execute(sa.select(jobs.c.kind, jobs.c.payload, jobs.c.attempts, jobs.c.max_attempts)
                           .where(jobs.c.id == job_id)).one()
    return Claim(job_id, row.kind, dict(row.payload or {}), row.attempts, row.max_attempts, worker)


def _fenced(c: Claim) -> Any:
    return sa.and_(jobs.c.id == c.id, jobs.c.status == "RUNNING", jobs.c.worker == c.worker,
                   jobs.c.attempts == c.attempts)


def heartbeat(engine: sa.Engine, c: Claim, lease: float) -> bool:
    """Extend the lease; False when the job is no longer ours."""
    with engine.begin() as conn:
        return bool(conn.execute(sa.update(jobs).where(_fenced(c)).values(lease_until=_at(lease))).rowcount == 1)


def finish(engine: sa.Engine, c: Claim, result: dict[str, Any]) -> bool:
    with engine.begin() as conn:
        return bool(conn.execute(sa.update(jobs).where(_fenced(c)).values(
            status="SUCCEEDED", finished_at=now(), lease_until=None, result=result, error=None)).rowcount == 1)


def backoff(attempts: int, base: float, cap: float) -> float:
    """Exponential with full jitter: spreads the retries of jobs that failed together."""
    return random.uniform(0, min(cap, base * 2 ** max(0, attempts - 1)))


def fail(engine: sa.Engine, c: Claim, error: str, base: float = 2.0, cap: float = 300.0) -> float | None:
    """Record a failed attempt: QUEUED again after a backoff (returned, seconds), or FAILED after the last one."""
    if c.attempts >= c.max_attempts:
        with engine.begin() as conn:
            conn.execute(sa.update(jobs).where(_fenced(c)).values(
                status="FAILED", finished_at=now(), lease_until=None, error=error[:4000]))
        return None
    delay = backoff(c.attempts, base, cap)
    with engine.begin() as conn:
        conn.execute(sa.update(jobs).where(_fenced(c)).values(status="QUEUED", lease_until=_at(delay),
                                                             error=error[:4000]))
    return delay


def give_up(engine: sa.Engine, c: Claim, error: str) -> None:
    """A job that keeps killing its workers: claimed past its last attempt, it fails without running again."""
    with engine.begin() as conn:
        conn.execute(sa.update(jobs).where(_fenced(c)).values(status="FAILED", finished_at=now(), lease_until=None,
                                                             error=error))


def lost(engine: sa.Engine, stale_seconds: float, limit: int = 1000) -> list[str]:
    """Jobs whose message may be gone: RUNNING past the lease, QUEUED past the backoff, QUEUED and old."""
    at, old = now(), _at(-stale_seconds)
    with engine.connect() as conn:
        return [r[0] for r in conn.execute(sa.select(jobs.c.id).where(sa.or_(
            sa.and_(jobs.c.status == "RUNNING", jobs.c.lease_until < at),
            sa.and_(jobs.c.status == "QUEUED", jobs.c.lease_until.is_not(None), jobs.c.lease_until <= at),
            sa.and_(jobs.c.status == "QUEUED", jobs.c.lease_until.is_(None), jobs.c.created_at <= old),
        )).order_by(jobs.c.created_at).limit(limit))]


def wire(row: Any) -> dict[str, Any]:
    return {"jobId": row["id"], "kind": row["kind"], "status": row["status"], "attempts": row["attempts"],
            "maxAttempts": row["max_attempts"], "payload": row["payload"], "createdAt": row["created_at"],
            "startedAt": row["started_at"], "finishedAt": row["finished_at"], "worker": row["worker"],
            "error": row["error"], "result": row["result"]}


def get(conn: sa.Connection, job_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).mappings().first()
    return wire(row) if row else None


def status_of(engine: sa.Engine, job_id: str) -> str | None:
    with engine.connect() as conn:
        value = conn.execute(sa.select(jobs.c.status).where(jobs.c.id == job_id)).scalar()
    return None if value is None else str(value)
