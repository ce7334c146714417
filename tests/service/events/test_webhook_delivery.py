"""Webhook delivery against a real HTTP receiver: signatures, down-then-up (exactly once, in order per resource),
a slow endpoint next to a fast one, retries then dead letters and replay, filters, late commits on PostgreSQL."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict
from typing import Any

import pytest
import sqlalchemy as sa
from eventkit import Receiver, Store, pg_store_fixture, receiver_fixture, store_fixture  # noqa: F401

from vulnhound.service.events import delivery, webhooks
from vulnhound.service.events.delivery import DeliveryConfig, deliver_once, verify
from vulnhound.service.events.outbox import emit, emit_many, event_row
from vulnhound.service.events.watermark import Watermark

FAST = DeliveryConfig(base=0.02, cap=0.2, max_attempts=1000, timeout=5.0, poll=0.05, idle_exit=0.5)
SECRET = "s3cret-s3cret-s3cret"


def hook(s: Store, who: Any, url: str, **kw: Any) -> str:
    with s.engine.begin() as conn:
        return str(webhooks.create(conn, who, url, SECRET, **kw)["webhookId"])


def statuses(s: Store, wid: str) -> dict[str, int]:
    with s.engine.connect() as conn:
        return dict(conn.execute(sa.text("SELECT status, count(*) FROM deliveries WHERE webhook_id = :w "
                                         "GROUP BY status"), {"w": wid}).all())


def envelopes(r: Receiver) -> list[dict[str, Any]]:
    return [json.loads(x.body) for x in r.got]


def by_seq(r: Receiver) -> list[dict[str, Any]]:
    """Events of different resources may arrive in any order; the tests compare them in seq order."""
    return sorted(envelopes(r), key=lambda e: int(e["vulnhoundseq"]))


def test_signed_cloudevents_post_and_nothing_twice(store: Store, receiver: Any) -> None:
    who = store.account()
    r = receiver()
    wid = hook(store, who, r.url)
    for i in range(3):
        store.emit(who, "vulnhound.scan.completed", f"res-{i}", scanId=f"s{i}", counts={"HIGH": i})
    got = deliver_once(store.engine, FAST)
    assert got.as_dict() == {"fannedOut": 3, "delivered": 3, "failed": 0, "dead": 0}
    assert len(r.got) == 3
    for item in r.got:
        h = item.headers
        assert h["content-type"] == "application/cloudevents+json"
        assert h["x-vulnhound-signature"].startswith("sha256=")
        assert verify(SECRET, h["x-vulnhound-timestamp"], item.body, h["x-vulnhound-signature"])
        assert not verify("another-secret-of-16", h["x-vulnhound-timestamp"], item.body, h["x-vulnhound-signature"])
        assert not verify(SECRET, h["x-vulnhound-timestamp"], item.body + b" ", h["x-vulnhound-signature"])
        assert abs(int(h["x-vulnhound-timestamp"]) - time.time()) < 60
        env = json.loads(item.body)
        assert env["specversion"] == "1.0" and env["type"] == "vulnhound.scan.completed"
        assert h["x-vulnhound-delivery"] == env["id"]
        assert env["source"] == f"urn:vulnhound:account:{who.account_id}"
    assert [e["data"]["scanId"] for e in by_seq(r)] == ["s0", "s1", "s2"]  # three resources: any arrival order
    assert statuses(store, wid) == {"DELIVERED": 3}
    assert deliver_once(store.engine, FAST).as_dict() == {"fannedOut": 0, "delivered": 0, "failed": 0, "dead": 0}
    assert len(r.tries) == 3


def test_receiver_down_then_up_gets_everything_once_in_order(store: Store, receiver: Any) -> None:
    who = store.account()
    r = receiver()
    port = r.port
    r.stop()  # down: connections are refused until it is back on the same port
    wid = hook(store, who, f"http://127.0.0.1:{port}/hook")
    subjects = ["res-a", "res-b", "res-c", None]
    for i in range(40):
        store.emit(who, "vulnhound.finding.updated", subjects[i % 4], n=i)
    stop = threading.Event()
    t = threading.Thread(target=delivery.run_forever, args=(store.engine, stop, FAST))
    t.start()
    try:
        time.sleep(1.5)
        with store.engine.connect() as conn:
            failed = conn.execute(sa.text("SELECT sum(attempts) FROM deliveries WHERE webhook_id = :w"),
                                  {"w": wid}).scalar()
        assert failed and failed >= 4, "the down receiver must have been tried"
        assert statuses(store, wid) == {"PENDING": 40}
        r.start(port)
        assert r.wait(40, timeout=30), len(r.got)
        time.sleep(0.5)  # anything extra would arrive now
    finally:
        stop.set()
        t.join(timeout=30)
    ids = [x.headers["x-vulnhound-delivery"] for x in r.got]
    assert len(ids) == 40 and len(set(ids)) == 40, "exactly once"
    per_subject: dict[Any, list[int]] = defaultdict(list)
    for env in envelopes(r):
        per_subject[env["subject"]].append(env["data"]["n"])
    for subject, ns in per_subject.items():
        assert ns == sorted(ns), (subject, ns)
        assert len(ns) == 10
    assert statuses(store, wid) == {"DELIVERED": 40}


def test_slow_endpoint_does_not_delay_another(store: Store, receiver: Any) -> None:
    who = store.account()
    slow, fast = receiver(delay=5.0), receiver()
    hook(store, who, slow.url)
    hook(store, who, fast.url)
    for i in range(20):
        store.emit(who, "vulnhound.finding.created", f"res-{i % 5}", n=i)
    stop = threading.Event()
    t = threading.Thread(target=delivery.run_forever, args=(store.engine, stop, FAST))
    start = time.monotonic()
    t.start()
    try:
        assert fast.wait(20, timeout=10)
        took = time.monotonic() - start
        assert took < 3.0, f"the fast webhook waited {took:.2f} s behind the slow one"
        assert len(slow.got) == 0
    finally:
        stop.set()
        t.join(timeout=30)
    assert len(slow.got) <= FAST.concurrency, "the stopped lane sent no new requests"
    print(f"fast webhook: 20 events in {took:.2f} s while the other endpoint sleeps 5 s per request")


def test_failures_retry_then_dead_letter_and_replay(store: Store, receiver: Any) -> None:
    who = store.account()
    broken = {"code": 500}
    r = receiver(status=lambda n: broken["code"])
    wid = hook(store, who, r.url)
    store.emit(who, "vulnhound.finding.created", "res-1", n=0)
    store.emit(who, "vulnhound.finding.updated", "res-1", n=1)
    cfg = DeliveryConfig(base=0.01, cap=0.05, max_attempts=3, timeout=5.0, poll=0.02, idle_exit=1.0)
    got = deliver_once(store.engine, cfg)
    # Both die in turn: the first blocks its resource until dead, then the second gets its own three tries.
    assert got.dead == 2 and got.failed == 4 and got.delivered == 0
    assert len(r.tries) == 6
    tried = [json.loads(x.body)["data"]["n"] for x in r.tries]
    assert tried == [0, 0, 0, 1, 1, 1], "the resource's second event waited for the first to die"
    with store.engine.connect() as conn:
        dead = webhooks.list_deliveries(conn, who, wid, "DEAD")["deliveries"]
    assert [d["attempts"] for d in dead] == [3, 3]
    assert all(d["lastError"].startswith("HTTP 500") for d in dead)

    broken["code"] = 404  # a 4xx is retried too (a misrouted endpoint gets fixed)
    with store.engine.begin() as conn:
        assert webhooks.replay(conn, who, wid, [dead[0]["eventSeq"], 999999]) == {"replayed": 1, "skipped": 1}
    assert deliver_once(store.engine, cfg).dead == 1
    assert len(r.tries) == 9

    broken["code"] = 204
    with store.engine.begin() as conn:
        assert webhooks.replay(conn, who, wid)["replayed"] == 2
    assert deliver_once(store.engine, cfg).delivered == 2
    assert [e["data"]["n"] for e in envelopes(r)] == [0, 1]
    assert statuses(store, wid) == {"DELIVERED": 2}


def test_type_and_finding_filters(store: Store, receiver: Any) -> None:
    who, other = store.account(), store.account()
    r_all, r_crit, r_res = receiver(), receiver(), receiver()
    hook(store, who, r_all.url)
    hook(store, who, r_crit.url, event_types=["vulnhound.finding."], flt={"severity": ["CRITICAL"]})
    hook(store, who, r_res.url, event_types=["vulnhound.scan.completed", "vulnhound.finding.created"],
         flt={"resourceId": ["res-2"]})

    def finding(severity: str, rid: str) -> dict[str, Any]:
        return {"findingId": "f", "severity": severity, "resources": [{"id": rid, "type": "HOST"}]}

    store.emit(who, "vulnhound.finding.created", "res-1", **finding("CRITICAL", "res-1"))
    store.emit(who, "vulnhound.finding.created", "res-2", **finding("HIGH", "res-2"))
    store.emit(who, "vulnhound.finding.closed", "res-2", **finding("CRITICAL", "res-2"))
    store.emit(who, "vulnhound.scan.completed", "res-2", scanId="s")
    store.emit(other, "vulnhound.finding.created", "res-9", **finding("CRITICAL", "res-9"))  # another tenant
    deliver_once(store.engine, FAST)
    assert len(r_all.got) == 4
    assert [(e["type"], e["subject"]) for e in by_seq(r_crit)] == [
        ("vulnhound.finding.created", "res-1"), ("vulnhound.finding.closed", "res-2")]
    assert [(e["type"], e["subject"]) for e in by_seq(r_res)] == [
        ("vulnhound.finding.created", "res-2"), ("vulnhound.scan.completed", "res-2")]


def test_a_late_commit_is_not_skipped(pg_store: Store, receiver: Any) -> None:
    """PostgreSQL: seq 1 taken by a transaction that commits after seq 2's; the fan-out must wait for it."""
    s = pg_store
    who = s.account()
    r = receiver()
    wid = hook(s, who, r.url)
    wm = Watermark(settle=0.0)
    slow_conn = s.engine.connect()
    tx = slow_conn.begin()
    emit(slow_conn, who.account_id, "vulnhound.finding.created", "res-1", {"n": 1})
    s.emit(who, "vulnhound.finding.created", "res-1", n=2)
    assert delivery.fan_out(s.engine, wm) == 0, "seq 2 must wait while seq 1 may still commit"
    tx.commit()
    slow_conn.close()
    assert delivery.fan_out(s.engine, wm) == 2
    deliver_once(s.engine, FAST, wm)
    assert [e["data"]["n"] for e in envelopes(r)] == [1, 2]

    # A rolled-back event leaves a hole for good: it is passed once its transaction is over.
    with s.engine.connect() as conn:
        tx = conn.begin()
        emit(conn, who.account_id, "vulnhound.finding.created", "res-1", {"n": 3})
        s.emit(who, "vulnhound.finding.created", "res-1", n=4)
        assert delivery.fan_out(s.engine, wm) == 0
        tx.rollback()
    assert delivery.fan_out(s.engine, wm) == 1
    deliver_once(s.engine, FAST, wm)
    assert [e["data"]["n"] for e in envelopes(r)] == [1, 2, 4]
    assert statuses(s, wid) == {"DELIVERED": 3}


@pytest.mark.parametrize("n", [1])
def test_job_handler_runs_one_pass(store: Store, receiver: Any, n: int) -> None:
    who = store.account()
    r = receiver()
    hook(store, who, r.url)
    store.emit(who, "vulnhound.coverage.changed", "res-1", status="ACTIVE")

    class Ctx:
        engine = store.engine

    out = delivery.handle(Ctx(), {"maxSeconds": 10, "base": 0.01, "idle_exit": 0.2})
    assert out == {"fannedOut": n, "delivered": n, "failed": 0, "dead": 0}
    assert len(r.got) == n


def test_delivery_survives_the_store_dropping_connections(pg_store: Store, receiver: Any) -> None:
    """Every connection to the database is killed mid-delivery: the loops reconnect, nothing is lost, order holds
    (a kill between a POST and its mark may resend that one event: receivers dedupe on the delivery id)."""
    s = pg_store
    who = s.account()
    r = receiver(delay=0.01)
    wid = hook(s, who, r.url)
    for i in range(60):
        s.emit(who, "vulnhound.finding.updated", f"res-{i % 3}", n=i)
    stop = threading.Event()
    t = threading.Thread(target=delivery.run_forever, args=(s.engine, stop, FAST))
    t.start()
    try:
        assert r.wait(10, timeout=20)
        admin = sa.create_engine(s.engine.url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            killed = conn.execute(sa.text("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                          "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
        admin.dispose()
        assert killed and killed >= 1
        assert r.wait(60, timeout=30), len(r.got)
        time.sleep(0.3)
    finally:
        stop.set()
        t.join(timeout=30)
    first: dict[str, dict[str, Any]] = {}
    for env in envelopes(r):
        first.setdefault(env["id"], env)
    assert len(first) == 60
    per_subject: dict[Any, list[int]] = defaultdict(list)
    for env in first.values():
        per_subject[env["subject"]].append(env["data"]["n"])
    assert all(ns == sorted(ns) and len(ns) == 20 for ns in per_subject.values()), per_subject
    assert statuses(s, wid) == {"DELIVERED": 60}


def test_backoff_is_exponential_with_full_jitter() -> None:
    cfg = DeliveryConfig(base=1.0, cap=30.0)
    for attempt, bound in ((1, 1.0), (2, 2.0), (4, 8.0), (5, 16.0), (6, 30.0), (40, 30.0)):
        waits = [cfg.backoff(attempt) for _ in range(2000)]
        assert 0.0 <= min(waits) < bound * 0.05 and bound * 0.95 < max(waits) <= bound, (attempt, bound)
    assert DeliveryConfig.from_payload({"base": 0.5, "max_attempts": 3, "webhookIds": ["x"]}) == \
        DeliveryConfig(base=0.5, max_attempts=3)


def test_old_delivered_rows_are_pruned_dead_letters_kept(store: Store, receiver: Any) -> None:
    who = store.account()
    r = receiver(status=lambda n: 200 if n < 2 else 500)
    wid = hook(store, who, r.url)
    for i in range(3):
        store.emit(who, "vulnhound.finding.created", "res-1", n=i)
    deliver_once(store.engine, DeliveryConfig(base=0.01, cap=0.01, max_attempts=1, idle_exit=0.2))
    assert statuses(store, wid) == {"DELIVERED": 2, "DEAD": 1}
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE deliveries SET delivered_at = '2001-01-01T00:00:00.000000Z' "
                             "WHERE webhook_id = :w AND event_seq = (SELECT min(event_seq) FROM deliveries "
                             "WHERE webhook_id = :w)"), {"w": wid})
    assert delivery.prune(store.engine, keep_days=7) == 1
    assert statuses(store, wid) == {"DELIVERED": 1, "DEAD": 1}


def test_a_failing_resource_with_a_long_backlog_does_not_block_the_others(store: Store, receiver: Any) -> None:
    who = store.account()
    r = receiver(by_body=lambda body: 500 if json.loads(body)["subject"] == "res-bad" else 200)
    wid = hook(store, who, r.url)
    with store.engine.begin() as conn:
        emit_many(conn, [event_row(who.account_id, "vulnhound.finding.updated", "res-bad", {"n": i})
                         for i in range(2500)])  # more than two windows of pending rows
        emit_many(conn, [event_row(who.account_id, "vulnhound.finding.updated", "res-ok", {"n": i})
                         for i in range(5)])
    cfg = DeliveryConfig(base=30.0, cap=60.0, max_attempts=10, timeout=5.0, poll=0.05, idle_exit=0.5)
    got = deliver_once(store.engine, cfg)
    assert got.delivered == 5 and got.failed == 1  # res-bad's head backs off; its 2499 followers wait behind it
    assert [json.loads(x.body)["data"]["n"] for x in r.got] == [0, 1, 2, 3, 4]
    assert statuses(store, wid) == {"PENDING": 2500, "DELIVERED": 5}
