"""The embedded executor end to end: a scan request becomes a job that a pool thread runs to COMPLETED, visible in
``/v1/jobs``; a failing job backs off, retries, and ends FAILED with its error."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import DATA, Api, IndexHolder, write_rootfs
from fastapi.testclient import TestClient

from vulnhound.matching.index import StoreIndex
from vulnhound.service.api.app import create_app
from vulnhound.service.api.deps import Settings
from vulnhound.service.jobs import store
from vulnhound.service.jobs.inprocess import InProcessExecutor
from vulnhound.service.jobs.interface import JobContext, JobSettings
from vulnhound.service.jobs.runner import run_job
from vulnhound.service.jobs.scheduler import Ticker


def _no_kb() -> Any:
    raise RuntimeError("no knowledge base in this test")


@pytest.fixture
def pooled(service: Any, holder: IndexHolder, new_account: Any) -> Iterator[tuple[Api, JobContext, Path]]:
    """A second app on the session's store whose requests go through an in-process executor."""
    _, engine, root = service
    ctx = JobContext(engine=engine, index=lambda: holder.index, kb=_no_kb,
                     settings=JobSettings(lease_seconds=5, retry_base_seconds=0.05, retry_cap_seconds=0.1))
    executor = InProcessExecutor(ctx, workers=2)
    app = create_app(Settings(engine=engine, index=lambda: holder.index, scan_roots=(root,), jobs=ctx,
                              job_wait=30))
    with TestClient(app) as client:
        yield Api(client, new_account("jobs").token), ctx, root
    executor.close()


def wait_status(engine: sa.Engine, jid: str, timeout: float = 30) -> str | None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = store.status_of(engine, jid)
        if status in store.DONE:
            return status
        time.sleep(0.05)
    return store.status_of(engine, jid)


def test_scan_request_runs_as_a_job(pooled: tuple[Api, JobContext, Path], service: Any, new_account: Any) -> None:
    api, _, root = pooled
    rid = api.ok("POST", "/v1/resources", 201, json={"type": "HOST", "name": "pooled-1"})["resourceId"]
    rootfs = write_rootfs(root / f"pooled-{rid}")
    result = api.ok("POST", "/v1/scans", 201, json={"resourceId": rid, "target": f"dir:{rootfs}"})
    assert (result["status"], result["stats"]["created"]) == ("COMPLETED", 3)

    listed = api.ok("GET", "/v1/jobs", params={"kind": "scan"})["jobs"]
    mine = [j for j in listed if j["payload"]["scanId"] == result["scanId"]]
    assert len(mine) == 1 and mine[0]["status"] == "SUCCEEDED" and mine[0]["attempts"] == 1
    assert mine[0]["worker"].split(":")[2] != str(threading.get_ident())  # a pool thread ran it
    assert api.ok("GET", f"/v1/jobs/{mine[0]['jobId']}")["result"]["status"] == "COMPLETED"
    # A read-only key may not look; another tenant's admin does not see it; the root admin does.
    ro = api.as_key(api.ok("POST", "/v1/keys", 201, json={"name": "ro", "role": "read-only"})["token"])
    assert ro("GET", f"/v1/jobs/{mine[0]['jobId']}").status_code == 403
    other = new_account("other")
    assert other("GET", f"/v1/jobs/{mine[0]['jobId']}").status_code == 404
    assert mine[0]["jobId"] not in {j["jobId"] for j in other.ok("GET", "/v1/jobs")["jobs"]}
    assert service[0].ok("GET", f"/v1/jobs/{mine[0]['jobId']}")["jobId"] == mine[0]["jobId"]
    # Keyset pages: no repeats, newest first, the token is bound to the filters.
    api.ok("POST", "/v1/scans", 201, json={"resourceId": rid, "target": f"dir:{rootfs}"})
    first = api.ok("GET", "/v1/jobs", params={"maxResults": 1})
    second = api.ok("GET", "/v1/jobs", params={"maxResults": 1, "nextToken": first["nextToken"]})
    assert first["jobs"][0]["createdAt"] >= second["jobs"][0]["createdAt"]
    assert second["jobs"][0]["jobId"] == mine[0]["jobId"] and second["nextToken"] is None
    assert api("GET", "/v1/jobs", params={"kind": "scan", "nextToken": first["nextToken"]}).status_code == 422


def test_failing_job_retries_then_fails(pooled: tuple[Api, JobContext, Path]) -> None:
    _, ctx, _ = pooled
    with ctx.engine.begin() as conn:  # this context has no knowledge base: every db-update attempt raises
        jid = store.enqueue(conn, "db-update", {}, max_attempts=3)
    ctx.submit(jid)
    assert wait_status(ctx.engine, jid) == "FAILED"
    with ctx.engine.connect() as conn:
        job = store.get(conn, jid)
    assert job is not None and job["attempts"] == 3 and "no knowledge base in this test" in job["error"]


def test_a_job_whose_message_was_lost_is_resubmitted(pooled: tuple[Api, JobContext, Path]) -> None:
    """Enqueued but never submitted (the process died between commit and submit): the sweeper finds it."""
    _, ctx, _ = pooled
    with ctx.engine.begin() as conn:
        jid = store.enqueue(conn, "scan", {"scanId": "purged"})
    assert store.status_of(ctx.engine, jid) == "QUEUED"
    assert Ticker(ctx, stale=0).tick()["resubmitted"] >= 1
    assert wait_status(ctx.engine, jid) == "SUCCEEDED"
    with ctx.engine.connect() as conn:
        job = store.get(conn, jid)
    assert job is not None and job["result"]["skipped"] == "the scan no longer exists"


def test_db_update_job_imports_the_mirror_then_queues_a_reevaluation(service: Any, tmp_path: Path) -> None:
    from vulnhound.advisories.store import open_kb

    mirror = tmp_path / "mirror" / "pypa" / "vulns" / "jinja2"
    mirror.mkdir(parents=True)
    for f in (DATA / "advisories").glob("PYSEC-20*.yaml"):
        (mirror / f.name).write_bytes(f.read_bytes())
    kb = open_kb(f"sqlite:///{tmp_path / 'kb.db'}")
    ctx = JobContext(engine=service[1], index=lambda: StoreIndex(kb), kb=lambda: kb,
                     settings=JobSettings(mirror=tmp_path / "mirror"))
    with ctx.engine.begin() as conn:
        jid = store.enqueue(conn, "db-update", {})
    assert run_job(ctx, jid) == "succeeded"
    with ctx.engine.connect() as conn:
        job = store.get(conn, jid)
    assert job is not None and set(job["result"]["sources"].values()) == {"full"}
    follow = job["result"]["reevaluateJob"]
    assert follow and store.status_of(ctx.engine, follow) == "QUEUED"
    assert sum(s.record_count for s in kb.status()) == 5
    with ctx.engine.begin() as conn:  # a second update while that re-evaluation is pending reuses it
        assert store.enqueue(conn, "reevaluate", {}, dedupe_key="reevaluate") == follow
    assert run_job(ctx, follow) == "succeeded"


def test_heartbeat_keeps_a_long_job_its_own(service: Any, holder: IndexHolder, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    """A job running three times its lease is not taken over: the heartbeat renews the lease."""
    monkeypatch.setenv("VULNHOUND_TEST_HANDLERS", "1")
    ctx = JobContext(engine=service[1], index=lambda: holder.index, kb=_no_kb, settings=JobSettings(lease_seconds=1))
    with ctx.engine.begin() as conn:
        jid = store.enqueue(conn, "sleep", {"seconds": 3, "effect": f"hb-{jid_suffix()}", "accountId": "test"})
    outcome: list[str] = []
    runner = threading.Thread(target=lambda: outcome.append(run_job(ctx, jid, "first")))
    runner.start()
    while store.status_of(ctx.engine, jid) != "RUNNING":
        time.sleep(0.01)
    stolen = []
    deadline = time.monotonic() + 2.8
    while time.monotonic() < deadline:
        stolen.append(store.claim(ctx.engine, jid, "thief", 1))
        time.sleep(0.2)
    runner.join()
    assert outcome == ["succeeded"] and not any(stolen)
    with ctx.engine.connect() as conn:
        job = store.get(conn, jid)
    assert job is not None and (job["worker"], job["attempts"]) == ("first", 1)


def jid_suffix() -> str:
    return store.new_id()[:8]
