"""The jobs table on SQLite and PostgreSQL: dedupe, one claim wins, a lapsed lease is taken over (and the old
worker's late writes are fenced off), failures back off and end FAILED."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from vulnhound.service.db.engine import open_store
from vulnhound.service.db.tables import jobs
from vulnhound.service.jobs import store


@pytest.fixture
def engine(db_url: str) -> Iterator[sa.Engine]:
    e = open_store(db_url)
    yield e
    e.dispose()


def row(engine: sa.Engine, jid: str) -> sa.Row:  # type: ignore[type-arg]
    with engine.connect() as conn:
        return conn.execute(sa.select(jobs).where(jobs.c.id == jid)).one()


def test_dedupe_reuses_only_live_jobs(engine: sa.Engine) -> None:
    key = f"dedupe-{id(engine)}-{threading.get_ident()}-{store.new_id()}"
    with engine.begin() as conn:
        a = store.enqueue(conn, "scan", {"scanId": "x"}, dedupe_key=key)
        assert store.enqueue(conn, "scan", {"scanId": "x"}, dedupe_key=key) == a
    c = store.claim(engine, a, "w1", 60)
    assert c is not None
    with engine.begin() as conn:
        assert store.enqueue(conn, "scan", {}, dedupe_key=key) == a  # RUNNING is still live
    assert store.finish(engine, c, {"ok": True})
    with engine.begin() as conn:
        assert store.enqueue(conn, "scan", {}, dedupe_key=key) != a  # finished: new work gets a new job


def test_one_claim_wins_among_racers(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        jid = store.enqueue(conn, "scan", {})
    won: list[str] = []
    barrier = threading.Barrier(6)

    def racer(name: str) -> None:
        barrier.wait()
        try:
            if store.claim(engine, jid, name, 60) is not None:
                won.append(name)
        except sa.exc.OperationalError:  # SQLite: "database is locked" is a lost race too
            pass

    threads = [threading.Thread(target=racer, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1
    r = row(engine, jid)
    assert (r.status, r.attempts, r.worker) == ("RUNNING", 1, won[0])


def test_lapsed_lease_is_taken_over_and_the_old_worker_is_fenced(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        jid = store.enqueue(conn, "scan", {})
    old = store.claim(engine, jid, "old", -1)  # a lease that already lapsed: the worker "died"
    assert old is not None
    assert jid in store.lost(engine, stale_seconds=3600)
    new = store.claim(engine, jid, "new", 60)
    assert new is not None and new.attempts == 2
    assert store.claim(engine, jid, "third", 60) is None  # live lease: nobody else
    assert not store.heartbeat(engine, old, 60)
    assert not store.finish(engine, old, {"by": "old"})
    assert store.finish(engine, new, {"by": "new"})
    r = row(engine, jid)
    assert (r.status, r.attempts, r.worker, r.result) == ("SUCCEEDED", 2, "new", {"by": "new"})
    assert store.claim(engine, jid, "late", 60) is None  # finished jobs never run again


def test_failures_back_off_then_fail(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        jid = store.enqueue(conn, "scan", {}, max_attempts=2)
    c = store.claim(engine, jid, "w", 60)
    assert c is not None
    delay = store.fail(engine, c, "boom", base=30, cap=60)
    assert delay is not None and 0 <= delay <= 30
    r = row(engine, jid)
    assert (r.status, r.error) == ("QUEUED", "boom")
    if delay > 0.5:
        assert store.claim(engine, jid, "w", 60) is None  # still backing off
    with engine.begin() as conn:  # time passes
        conn.execute(sa.update(jobs).where(jobs.c.id == jid).values(lease_until=store.now()))
    assert jid in store.lost(engine, stale_seconds=3600)
    c2 = store.claim(engine, jid, "w", 60)
    assert c2 is not None and c2.attempts == 2
    assert store.fail(engine, c2, "boom again") is None
    r = row(engine, jid)
    assert (r.status, r.error, r.attempts) == ("FAILED", "boom again", 2)
