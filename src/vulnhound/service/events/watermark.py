"""The outbox's safe watermark: the highest event seq at or below which every event has committed or never will,
so consumers that follow ``seq`` (webhook fan-out, NATS) never skip an event that commits late.

Why: on PostgreSQL ``seq`` comes from a sequence, taken at insert time; a transaction that took seq 10 can commit
after one that took 11. A consumer that read 11 and moved its cursor past 10 would lose 10 for good. A hole in the
sequence is either such a transaction still running, or a rolled-back one (a hole forever). We remember which
writing transactions of this database were running when a hole was first seen (``pg_stat_activity.backend_xid``;
the service's own role sees its own sessions) and treat the hole as final once none of them is running any more,
plus a short settle time for the instant between ``nextval`` and the row insert, when the transaction may not have
an xid yet. Other databases of the cluster are ignored: a long transaction there must not stall delivery here.
``gap_timeout`` bounds the wait should a session stay idle in a transaction forever. SQLite has one writer at a
time, so a hole there is always final.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa

from vulnhound.service.db.tables import events

BATCH = 20_000


@dataclass(slots=True)
class _Hole:
    running: list[str]  # xids (as text) of this database's transactions in progress when the hole was first seen
    seen: float  # time.monotonic() of the first sighting


class Watermark:
    """One per process and engine; ``advance`` is cheap when there are no holes (one indexed range scan)."""

    def __init__(self, settle: float = 1.0, gap_timeout: float = 900.0) -> None:
        self.settle, self.gap_timeout = settle, gap_timeout
        self.safe = 0
        self._holes: dict[int, _Hole] = {}
        self._lock = threading.Lock()

    def advance(self, conn: sa.Connection, floor: int = 0) -> int:
        """Move the watermark as far as it safely goes and return it. ``floor``: every consumer is already past it."""
        with self._lock:
            self.safe = max(self.safe, floor)
            pg = conn.dialect.name == "postgresql"
            while True:
                seqs = [s for (s,) in conn.execute(sa.select(events.c.seq).where(events.c.seq > self.safe)
                                                   .order_by(events.c.seq).limit(BATCH))]
                if not seqs:
                    return self.safe
                running = _running(conn) if pg and seqs[-1] - self.safe != len(seqs) else None
                expect = self.safe + 1
                for s in seqs:
                    if s != expect and running is not None and not self._final(conn, expect, running):
                        self._forget_below(expect)
                        self.safe = expect - 1
                        return self.safe
                    expect = s + 1
                self.safe = seqs[-1]
                self._forget_below(self.safe)
                if len(seqs) < BATCH:
                    return self.safe

    def _final(self, conn: sa.Connection, hole: int, running_now: list[str]) -> bool:
        now = time.monotonic()
        h = self._holes.setdefault(hole, _Hole(running_now, now))
        if now - h.seen >= self.gap_timeout:
            return True
        if now - h.seen < self.settle:
            return False
        return not (h.running and _still_running(conn, h.running))

    def _forget_below(self, seq: int) -> None:
        for k in [k for k in self._holes if k < seq]:
            del self._holes[k]


def _running(conn: sa.Connection) -> list[str]:
    # Read after the events query: any transaction holding a hole below a visible seq is already running by then.
    # (pg_stat_activity is read once per transaction: a later check needs a new transaction, which each
    # ``advance`` call of the delivery and publishing loops is.)
    return [x for (x,) in conn.exec_driver_sql(
        "SELECT backend_xid::text FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()")]


def _still_running(conn: sa.Connection, xids: list[str]) -> bool:
    row = conn.execute(sa.text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                               "AND backend_xid::text = ANY(CAST(:xids AS text[]))"), {"xids": xids}).scalar()
    return bool(row)
