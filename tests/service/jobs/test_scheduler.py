"""Schedules: due work is enqueued exactly once with two tickers; a RESCAN re-collects server-side targets and
re-matches pushed snapshots; images past their rescan window close OUT_OF_WINDOW; the API is tenant-scoped."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import Api, IndexHolder, write_rootfs

from vulnhound.exports.inventory_json import to_wire
from vulnhound.inventory.build import build_inventory
from vulnhound.service.db.engine import create_engine
from vulnhound.service.db.tables import findings, jobs, resources, scans, schedules
from vulnhound.service.domain.common import iso
from vulnhound.service.jobs import scheduler
from vulnhound.service.jobs.inprocess import InProcessExecutor
from vulnhound.service.jobs.interface import JobContext, JobSettings
from vulnhound.sources.resolve import open_source


def _no_kb() -> Any:
    raise RuntimeError("no knowledge base in this test")


@pytest.fixture
def ctx(service: Any, holder: IndexHolder) -> Iterator[JobContext]:
    c = JobContext(engine=service[1], index=lambda: holder.index, kb=_no_kb, settings=JobSettings(lease_seconds=10))
    executor = InProcessExecutor(c, workers=2)
    yield c
    executor.close()


def account_of(api: Api) -> str:
    return str(api.ok("GET", "/v1/account")["accountId"])


def settle(engine: sa.Engine, rids: list[str], timeout: float = 30) -> None:
    """Wait until no scan of these resources is QUEUED or RUNNING."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if not conn.execute(sa.select(sa.func.count()).select_from(scans).where(
                    scans.c.resource_id.in_(rids), scans.c.status.in_(("QUEUED", "RUNNING")))).scalar():
                return
        time.sleep(0.05)
    raise AssertionError("scans did not settle")


def test_due_schedule_is_enqueued_once_by_two_tickers(service: Any, new_account: Any, db_url: str) -> None:
    api = new_account("tick")
    sid = api.ok("POST", "/v1/schedules", 201, json={"kind": "RESCAN", "resourceType": "HOST",
                                                      "intervalSeconds": 3600})["scheduleId"]
    with service[1].begin() as conn:
        due = conn.execute(sa.select(schedules.c.next_run_at).where(schedules.c.id == sid)).scalar_one()
    engines = [create_engine(db_url), create_engine(db_url)]  # two "processes"
    got: list[list[str]] = []
    barrier = threading.Barrier(2)

    def tick(engine: sa.Engine) -> None:
        barrier.wait()
        for _ in range(3):  # and again: a run already claimed is not claimed twice
            try:
                got.append(scheduler.enqueue_due(engine))
            except sa.exc.OperationalError:  # SQLite's writer lock: this ticker tries next time
                pass

    threads = [threading.Thread(target=tick, args=(e,)) for e in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for e in engines:
        e.dispose()
    with service[1].connect() as conn:
        made = conn.execute(sa.select(jobs.c.id, jobs.c.payload).where(
            jobs.c.dedupe_key == f"schedule:{sid}:{due}")).all()
        nxt = conn.execute(sa.select(schedules.c.next_run_at).where(schedules.c.id == sid)).scalar_one()
    assert len(made) == 1 and made[0].payload == {"scheduleId": sid, "dueAt": due}
    assert sum(made[0].id in ids for ids in got) == 1
    assert nxt >= iso(dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3500))


def push(api: Api, root: Path, rid: str, name: str) -> dict[str, Any]:
    with open_source(f"dir:{write_rootfs(root / name)}") as src:
        doc = to_wire(build_inventory(src))
    return api.ok("POST", f"/v1/resources/{rid}/inventory", 201, json=doc)  # type: ignore[no-any-return]


def test_rescan_and_rescan_window(service: Any, new_account: Any, ctx: JobContext) -> None:
    _, engine, root = service
    api = new_account("rescan")
    host = api.ok("POST", "/v1/resources", 201, json={"type": "HOST", "name": "h"})["resourceId"]
    rootfs = write_rootfs(root / f"rescan-{host}")
    assert api.ok("POST", "/v1/scans", 201, json={"resourceId": host, "target": f"dir:{rootfs}"})["status"] \
        == "COMPLETED"
    old_img = api.ok("POST", "/v1/resources", 201, json={
        "type": "CONTAINER_IMAGE", "name": "reg/old", "details": {"imageDigest": "sha256:" + "cd" * 32}})["resourceId"]
    new_img = api.ok("POST", "/v1/resources", 201, json={
        "type": "CONTAINER_IMAGE", "name": "reg/new", "details": {"imageDigest": "sha256:" + "ef" * 32}})["resourceId"]
    assert push(api, root, old_img, f"img-old-{old_img}")["stats"]["created"] == 3
    assert push(api, root, new_img, f"img-new-{new_img}")["stats"]["created"] == 3
    long_ago = iso(dt.datetime.now(dt.UTC) - dt.timedelta(days=40))
    with engine.begin() as conn:  # the old image was pushed 40 days ago
        conn.execute(sa.update(scans).where(scans.c.resource_id == old_img).values(created_at=long_ago))
        conn.execute(sa.update(resources).where(resources.c.id == old_img).values(created_at=long_ago))

    hosts = api.ok("POST", "/v1/schedules", 201, json={"kind": "RESCAN", "resourceType": "HOST",
                                                        "intervalSeconds": 3600})["scheduleId"]
    images = api.ok("POST", "/v1/schedules", 201, json={
        "kind": "RESCAN", "resourceType": "CONTAINER_IMAGE", "intervalSeconds": 3600,
        "rescanWindowSeconds": 30 * 86400})["scheduleId"]
    out_h = scheduler.run_schedule(ctx, hosts, iso(dt.datetime.now(dt.UTC)))
    out_i = scheduler.run_schedule(ctx, images, iso(dt.datetime.now(dt.UTC)))
    assert (out_h["rescans"], out_i["rescans"], out_i["outOfWindow"], out_i["findingsClosed"]) == (1, 1, 1, 3)
    settle(engine, [host, new_img])

    with engine.connect() as conn:
        kinds = {r.resource_id: r.kind for r in conn.execute(sa.select(scans.c.resource_id, scans.c.kind)
                 .where(scans.c.resource_id.in_([host, new_img]), scans.c.status == "COMPLETED")
                 .order_by(scans.c.created_at))}
        closed = conn.execute(sa.select(findings.c.status, findings.c.closed_reason).where(
            findings.c.resource_id == old_img)).all()
        still = conn.execute(sa.select(findings.c.status).where(findings.c.resource_id == new_img)).scalars().all()
    assert kinds == {host: "TARGET", new_img: "RESCAN"}  # collected again / snapshot re-matched
    assert sorted(closed) == [("CLOSED", "OUT_OF_WINDOW")] * 3
    assert still == ["ACTIVE"] * 3
    cov = {c["resourceId"]: c["scanStatus"] for c in api.ok("GET", "/v1/coverage")["coveredResources"]}
    assert (cov[old_img]["statusCode"], cov[old_img]["reason"]) == ("INACTIVE", "SCAN_ELIGIBILITY_EXPIRED")
    assert cov[new_img]["statusCode"] == "ACTIVE"

    again = scheduler.run_schedule(ctx, images, iso(dt.datetime.now(dt.UTC)))
    assert (again["outOfWindow"], again["findingsClosed"]) == (1, 0)  # idempotent
    push(api, root, old_img, f"img-old2-{old_img}")  # a new push brings the image back into its window
    with engine.connect() as conn:
        back = conn.execute(sa.select(findings.c.status).where(findings.c.resource_id == old_img)).scalars().all()
    assert back == ["ACTIVE"] * 3
    assert scheduler.run_schedule(ctx, images, iso(dt.datetime.now(dt.UTC)))["outOfWindow"] == 0


def test_schedule_api_is_tenant_scoped(service: Any, new_account: Any) -> None:
    admin = service[0]
    api, other = new_account("sched"), new_account("sched-other")
    body = api.ok("POST", "/v1/schedules", 201, json={"kind": "RESCAN", "intervalSeconds": 7200})
    sid = body["scheduleId"]
    assert (body["kind"], body["intervalSeconds"], body["enabled"]) == ("RESCAN", 7200, True)
    assert other("GET", f"/v1/schedules/{sid}").status_code == 404
    assert other("DELETE", f"/v1/schedules/{sid}").status_code == 404
    assert api("POST", "/v1/schedules", json={"kind": "DB_UPDATE", "intervalSeconds": 3600}).status_code == 403
    assert api("POST", "/v1/schedules", json={"kind": "RESCAN", "resourceType": "HOST", "intervalSeconds": 3600,
                                              "rescanWindowSeconds": 86400}).status_code == 422
    assert api("POST", "/v1/schedules", json={"kind": "RESCAN", "intervalSeconds": 5}).status_code == 422
    ro = api.as_key(api.ok("POST", "/v1/keys", 201, json={"name": "ro", "role": "read-only"})["token"])
    assert ro("POST", "/v1/schedules", json={"kind": "RESCAN", "intervalSeconds": 3600}).status_code == 403
    assert [s["scheduleId"] for s in ro.ok("GET", "/v1/schedules")["schedules"]] == [sid]
    patched = api.ok("PATCH", f"/v1/schedules/{sid}", json={"enabled": False, "intervalSeconds": 600})
    assert (patched["enabled"], patched["intervalSeconds"]) == (False, 600)
    root_sched = admin.ok("POST", "/v1/schedules", 201, json={"kind": "DB_UPDATE", "intervalSeconds": 86400})
    assert root_sched["kind"] == "DB_UPDATE"
    admin.ok("DELETE", f"/v1/schedules/{root_sched['scheduleId']}", 204)
    api.ok("DELETE", f"/v1/schedules/{sid}", 204)
    assert api.ok("GET", "/v1/schedules")["schedules"] == []
