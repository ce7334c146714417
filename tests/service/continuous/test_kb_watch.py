"""A `vulnhound db update` run outside the server (cron, by hand) still re-evaluates the fleet: the scheduler's tick
sees knowledge-base operations past the re-evaluation cursor and queues one `reevaluate` job, then nothing more."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from reeval_kit import Mirror, fresh_store, open_kb_at, push_and_scan, root_actor

from vulnhound.service.continuous.reevaluate import cursor
from vulnhound.service.db.tables import jobs
from vulnhound.service.jobs.interface import JobContext
from vulnhound.service.jobs.runner import run_job
from vulnhound.service.jobs.scheduler import Ticker


def test_tick_queues_a_reevaluation_after_an_outside_update(tmp_path: Path, vulndata: Path) -> None:
    mirror = Mirror(tmp_path / "mirror", vulndata)
    mirror.copy("requests", "PYSEC-2018-28")
    with open_kb_at(tmp_path) as (kb, index), fresh_store("sqlite", tmp_path) as engine:
        ticker = Ticker(JobContext(engine=engine, index=index, kb=lambda: kb))
        assert ticker.tick()["scheduled"] == 0  # an empty knowledge base: nothing to do
        [op] = mirror.update(kb)  # what `vulnhound db update` does, outside the server
        push_and_scan(engine, root_actor(engine), index, "api-1", [("requests", "2.19.0")])
        assert ticker.tick()["scheduled"] == 1
        assert ticker.tick()["scheduled"] == 1  # the same live job, not a second one
        with engine.connect() as conn:
            [(jid, kind)] = conn.execute(sa.select(jobs.c.id, jobs.c.kind)).all()
        assert kind == "reevaluate"
        assert run_job(ticker.ctx, jid) == "succeeded"
        with engine.connect() as conn:
            assert cursor(conn) == op
        assert ticker.tick()["scheduled"] == 0
