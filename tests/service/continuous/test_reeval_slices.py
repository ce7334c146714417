"""An incremental re-evaluation split into ``reevaluate-slice`` jobs (what lets Celery workers share it) reaches the
same end state as the single-process run: same resources, causes and events, and ``full`` then changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from reeval_kit import (
    FLEET,
    Mirror,
    events_after,
    first_snapshot,
    fresh_store,
    last_seq,
    newer_snapshot,
    open_kb_at,
    push_and_scan,
    root_actor,
)

from vulnhound.service.continuous.reevaluate import full, incremental
from vulnhound.service.db.tables import jobs
from vulnhound.service.jobs import store
from vulnhound.service.jobs.dispatch import wait_done
from vulnhound.service.jobs.inprocess import InProcessExecutor
from vulnhound.service.jobs.interface import JobContext

BACKENDS = ["sqlite", pytest.param("postgresql", marks=[pytest.mark.services])]
INVENTORIES = FLEET


@pytest.mark.parametrize("backend", BACKENDS)
def test_sliced_reevaluation_matches_the_single_run(backend: str, tmp_path: Path, vulndata: Path) -> None:
    mirror = Mirror(tmp_path / "mirror", vulndata)
    first_snapshot(mirror)
    with open_kb_at(tmp_path) as (kb, index), fresh_store(backend, tmp_path) as engine:
        mirror.update(kb)
        actor = root_actor(engine)
        for name, pkgs in INVENTORIES.items():
            push_and_scan(engine, actor, index, name, pkgs)
        incremental(engine, index, kb)
        _, eseq = last_seq(engine)
        newer_snapshot(mirror)
        mirror.update(kb)

        ctx = JobContext(engine=engine, index=index, kb=lambda: kb)
        executor = InProcessExecutor(ctx, workers=2)
        try:
            with engine.begin() as conn:
                jid = store.enqueue(conn, "reevaluate", {"slices": 3})
            ctx.submit(jid)
            assert wait_done(engine, jid, 60) == "SUCCEEDED"
        finally:
            executor.close()
        with engine.connect() as conn:
            result = conn.execute(sa.select(jobs.c.result).where(jobs.c.id == jid)).scalar_one()
            slices = conn.execute(sa.select(jobs.c.status).where(jobs.c.kind == "reevaluate-slice")).scalars().all()
        assert slices == ["SUCCEEDED"] * 2  # 4 resources in runs of ceil(4 / 3) = 2
        assert result["resourcesReevaluated"] == 4
        assert result["causes"] == {"ADVISORY_ADDED": 1, "ADVISORY_MODIFIED": 3, "ADVISORY_WITHDRAWN": 1}
        evs = events_after(engine, eseq)
        kbev = [e for e in evs if e["type"] == "vulnhound.knowledgebase.updated"]
        assert len(kbev) == 1 and kbev[0]["data"]["resourcesReevaluated"] == 4
        assert sorted(e["type"] for e in evs if e["type"] != "vulnhound.knowledgebase.updated") == sorted(
            ["vulnhound.finding.created", "vulnhound.finding.closed", "vulnhound.finding.closed",
             "vulnhound.finding.updated", "vulnhound.finding.updated"])
        check = full(engine, index)
        assert (check.resources, check.changed) == (len(INVENTORIES), 0)
