"""Celery workers for real, over Redis and over RabbitMQ, with PostgreSQL as the store: two ``vulnhound worker``
processes; a scan request goes through them; a due schedule runs once with two tickers; a pool process SIGKILLed
mid-job, then a whole worker SIGKILLed mid-job: each job is retried (by the other worker in the second case) and
its effect is written exactly once (attempts = 2)."""

from __future__ import annotations

import os
import secrets
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from celery_kit import BROKERS, Worker, broker_reachable, build_kb, delete_queue, pg_database
from conftest import DATA, Api, write_rootfs
from fastapi.testclient import TestClient

from vulnhound.exports.inventory_json import to_wire
from vulnhound.inventory.build import build_inventory
from vulnhound.service.api.app import create_app
from vulnhound.service.api.deps import Settings
from vulnhound.service.db.engine import open_store
from vulnhound.service.db.tables import audit_log, jobs
from vulnhound.service.domain.accounts import bootstrap
from vulnhound.service.jobs import store
from vulnhound.service.jobs.celery_exec import CeleryExecutor
from vulnhound.service.jobs.interface import JobContext
from vulnhound.service.server import KnowledgeBaseIndex
from vulnhound.sources.resolve import open_source

pytestmark = [pytest.mark.services, pytest.mark.slow]
LEASE = 3.0


class Cluster:
    def __init__(self, engine: sa.Engine, executor: CeleryExecutor, workers: list[Worker], kb: str) -> None:
        self.engine, self.executor, self.workers, self.kb = engine, executor, workers, kb


@pytest.fixture(params=sorted(BROKERS))
def cluster(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cluster]:
    broker = BROKERS[request.param]
    if not broker_reachable(broker):
        pytest.skip(f"{request.param} is not reachable at {broker}")
    queue = f"vh-test-{secrets.token_hex(4)}"
    kb = build_kb(tmp_path / "kb.db", DATA / "advisories")
    with pg_database("vh_jobs") as url:
        engine = open_store(url)
        args = ["--database-url", url, "--broker", broker, "--kb-db", kb, "--queue", queue, "--concurrency", "1",
                "--lease", str(LEASE), "--beat", "--tick", "0.5"]
        workers = [Worker(args, tmp_path / f"worker-{i}.log", {"VULNHOUND_TEST_HANDLERS": "1"}) for i in range(2)]
        executor = CeleryExecutor(broker, queue)
        try:
            for w in workers:
                w.wait_ready()
            yield Cluster(engine, executor, workers, kb)
        finally:
            for w in workers:
                w.stop()
            executor.close()
            delete_queue(broker, queue)
            engine.dispose()


def wait_for(engine: sa.Engine, jid: str, statuses: tuple[str, ...], timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        with engine.connect() as conn:
            job = store.get(conn, jid)
        assert job is not None
        if job["status"] in statuses:
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job {jid} stayed {job['status']}: {job}")
        time.sleep(0.1)


def scan_through_workers(cluster: Cluster, tmp_path: Path) -> None:
    """`vulnhound server --broker`: the request's job runs on a worker process."""
    with cluster.engine.begin() as conn:
        token = bootstrap(conn)
    assert token is not None
    index = KnowledgeBaseIndex(cluster.kb)
    ctx = JobContext(engine=cluster.engine, index=index, kb=index.knowledge_base, executor=cluster.executor)
    app = create_app(Settings(engine=cluster.engine, index=index, jobs=ctx, job_wait=60))
    with TestClient(app) as client:
        api = Api(client, token)
        rid = api.ok("POST", "/v1/resources", 201, json={"type": "HOST", "name": "celery-host"})["resourceId"]
        with open_source(f"dir:{write_rootfs(tmp_path / 'rootfs')}") as src:
            doc = to_wire(build_inventory(src))
        result = api.ok("POST", f"/v1/resources/{rid}/inventory", 201, json=doc)
        assert (result["status"], result["stats"]["created"]) == ("COMPLETED", 3)
        job = api.ok("GET", "/v1/jobs", params={"kind": "scan"})["jobs"][0]
        pid = int(job["worker"].split(":")[1])
        assert any(w.owns(pid) for w in cluster.workers)  # ran in a worker, not in this process

        # Both workers run a ticker (--beat): the due schedule becomes one schedule-tick job, hence one rescan.
        sid = api.ok("POST", "/v1/schedules", 201, json={"kind": "RESCAN", "intervalSeconds": 3600})["scheduleId"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            rescans = [s for s in api.ok("GET", "/v1/scans", params={"resourceId": rid})["scans"]
                       if s["kind"] == "RESCAN"]
            if rescans and rescans[0]["status"] == "COMPLETED":
                break
            time.sleep(0.2)
        time.sleep(2)  # a few more ticks: nothing more may come
        rescans = [s for s in api.ok("GET", "/v1/scans", params={"resourceId": rid})["scans"] if s["kind"] == "RESCAN"]
        assert [(s["status"], s["stats"]["updated"]) for s in rescans] == [("COMPLETED", 3)]
        ticks = [j for j in api.ok("GET", "/v1/jobs", params={"kind": "schedule-tick"})["jobs"]
                 if j["payload"]["scheduleId"] == sid]
        assert [(j["status"], j["result"]["rescans"]) for j in ticks] == [("SUCCEEDED", 1)]


def kill_mid_job(cluster: Cluster) -> None:
    effect = f"effect-{secrets.token_hex(4)}"
    with cluster.engine.begin() as conn:
        jid = store.enqueue(conn, "sleep", {"seconds": 4, "effect": effect, "accountId": "test"})
    cluster.executor.submit(jid)
    running = wait_for(cluster.engine, jid, ("RUNNING",), timeout=30)
    pid = int(running["worker"].split(":")[1])
    victim = next(w for w in cluster.workers if w.owns(pid))
    survivor = next(w for w in cluster.workers if w is not victim)
    time.sleep(0.5)  # mid-job
    victim.kill()

    done = wait_for(cluster.engine, jid, ("SUCCEEDED", "FAILED"), timeout=60)
    assert done["status"] == "SUCCEEDED", done
    assert done["attempts"] == 2
    assert survivor.owns(int(done["worker"].split(":")[1]))
    with cluster.engine.connect() as conn:
        effects = conn.execute(sa.select(audit_log.c.detail).where(audit_log.c.action == "test.effect",
                                                                   audit_log.c.target == effect)).all()
        runs = conn.execute(sa.select(sa.func.count()).select_from(jobs).where(jobs.c.id == jid)).scalar()
    assert len(effects) == 1 and survivor.owns(effects[0].detail["pid"])
    assert runs == 1
    # Late redeliveries of the same id (the broker's, the sweeper's) change nothing.
    cluster.executor.submit(jid)
    time.sleep(1.5)
    assert wait_for(cluster.engine, jid, ("SUCCEEDED",))["attempts"] == 2


def pool_process_killed(cluster: Cluster) -> None:
    """Only the pool process dies (what the OOM killer picks): its worker lives on and the job still runs once."""
    effect = f"effect-{secrets.token_hex(4)}"
    with cluster.engine.begin() as conn:
        jid = store.enqueue(conn, "sleep", {"seconds": 3, "effect": effect, "accountId": "test"})
    cluster.executor.submit(jid)
    pid = int(wait_for(cluster.engine, jid, ("RUNNING",), timeout=30)["worker"].split(":")[1])
    assert not any(pid == w.proc.pid for w in cluster.workers)  # a prefork child, not a main process
    os.kill(pid, signal.SIGKILL)
    done = wait_for(cluster.engine, jid, ("SUCCEEDED", "FAILED"), timeout=60)
    assert (done["status"], done["attempts"]) == ("SUCCEEDED", 2)
    with cluster.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(audit_log).where(
            audit_log.c.action == "test.effect", audit_log.c.target == effect)).scalar() == 1


def test_celery_workers(cluster: Cluster, tmp_path: Path) -> None:
    # One test per broker: starting two workers costs seconds, and the last kill ends one of them.
    scan_through_workers(cluster, tmp_path)
    pool_process_killed(cluster)
    kill_mid_job(cluster)
