"""The events API: webhook CRUD (secret shown once), deliveries and dead letters, replay, event paging, roles and
tenant isolation; suppression rules emit ``vulnhound.finding.suppressed/unsuppressed``."""

from __future__ import annotations

import json
import secrets
from typing import Any

import sqlalchemy as sa
from eventkit import receiver_fixture  # noqa: F401

from vulnhound.service.db.tables import findings
from vulnhound.service.domain.common import now
from vulnhound.service.events.delivery import DeliveryConfig, deliver_once
from vulnhound.service.events.outbox import emit

CFG = DeliveryConfig(base=0.01, cap=0.02, max_attempts=2, timeout=5.0, poll=0.02, idle_exit=0.3)


def account_id(api: Any) -> str:
    return str(api.ok("GET", "/v1/account")["accountId"])


def emit_some(engine: sa.Engine, acct: str, n: int, subject: str = "res-x") -> None:
    with engine.begin() as conn:
        for i in range(n):
            emit(conn, acct, "vulnhound.finding.updated", subject, {"n": i, "severity": "HIGH"})


def test_webhook_crud_secret_shown_once_and_validation(service: Any, new_account: Any) -> None:
    api = new_account("hooks")
    made = api.ok("POST", "/v1/webhooks", 201, json={"url": "https://example.invalid/hook",
                                                     "eventTypes": ["vulnhound.finding.", "vulnhound.scan.completed"],
                                                     "filter": {"severity": ["CRITICAL", "HIGH"]}})
    wid, secret = made["webhookId"], made["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    got = api.ok("GET", f"/v1/webhooks/{wid}")
    assert "secret" not in got and secret not in str(api.ok("GET", "/v1/webhooks"))
    assert got["eventTypes"] == ["vulnhound.finding.", "vulnhound.scan.completed"]
    assert got["filter"] == {"severity": ["CRITICAL", "HIGH"]}
    assert got["deliveryStats"] == {"PENDING": 0, "DELIVERED": 0, "DEAD": 0, "lastDeliveredAt": None}
    patched = api.ok("PATCH", f"/v1/webhooks/{wid}", json={"url": "http://127.0.0.1:9/h", "enabled": False,
                                                           "rotateSecret": True, "filter": {}})
    assert patched["url"] == "http://127.0.0.1:9/h" and patched["enabled"] is False and patched["filter"] == {}
    assert patched["secret"].startswith("whsec_") and patched["secret"] != secret
    assert "secret" not in api.ok("PATCH", f"/v1/webhooks/{wid}", json={"enabled": True})
    given = api.ok("POST", "/v1/webhooks", 201, json={"url": "http://127.0.0.1:9/x", "secret": "my-own-secret-123"})
    assert given["secret"] == "my-own-secret-123"
    assert [w["webhookId"] for w in api.ok("GET", "/v1/webhooks")["webhooks"]] == [wid, given["webhookId"]]

    for bad in ({"url": "ftp://example.invalid/"}, {"url": "http://user:pw@example.invalid/"},
                {"url": "http://example.invalid/", "eventTypes": ["vulnhound.nothing"]},
                {"url": "http://example.invalid/", "eventTypes": ["other."]},
                {"url": "http://example.invalid/", "filter": {"severity": ["SEVERE"]}},
                {"url": "http://example.invalid/", "filter": {"packageName": ["x"]}},
                {"url": "http://example.invalid/", "secret": "short"},
                {"url": "http://example.invalid/", "extra": 1}):
        r = api("POST", "/v1/webhooks", json=bad)
        assert r.status_code == 422, (bad, r.text)
        assert r.headers["content-type"] == "application/problem+json"
    assert api("DELETE", f"/v1/webhooks/{wid}").status_code == 204
    r = api("GET", f"/v1/webhooks/{wid}")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    actions = [e["action"] for e in api.ok("GET", "/v1/audit")["events"]]
    assert {"webhook.create", "webhook.update", "webhook.delete"} <= set(actions)


def test_dead_letters_replay_and_event_paging(service: Any, new_account: Any, receiver: Any) -> None:
    _, engine, _ = service
    api = new_account("dead")
    answer = {"code": 503}
    r = receiver(status=lambda n: answer["code"])
    wid = api.ok("POST", "/v1/webhooks", 201, json={"url": r.url})["webhookId"]
    acct = account_id(api)
    emit_some(engine, acct, 5)
    got = deliver_once(engine, CFG, webhook_ids=[wid])
    assert got.dead == 5 and got.delivered == 0
    dead = api.ok("GET", f"/v1/webhooks/{wid}/deliveries", params={"status": "DEAD"})["deliveries"]
    assert len(dead) == 5 and all(d["attempts"] == 2 and d["lastError"].startswith("HTTP 503") for d in dead)
    assert api.ok("GET", f"/v1/webhooks/{wid}")["deliveryStats"]["DEAD"] == 5
    page = api.ok("GET", f"/v1/webhooks/{wid}/deliveries", params={"maxResults": 2})
    assert len(page["deliveries"]) == 2 and page["nextAfter"] == page["deliveries"][1]["eventSeq"]

    answer["code"] = 200
    seqs = [d["eventSeq"] for d in dead]
    assert api.ok("POST", f"/v1/webhooks/{wid}/deliveries/replay", json={"eventSeqs": seqs[:2]}) == {
        "replayed": 2, "skipped": 0}
    assert deliver_once(engine, CFG, webhook_ids=[wid]).delivered == 2
    assert api.ok("POST", f"/v1/webhooks/{wid}/deliveries/replay")["replayed"] == 3  # no body: all dead
    assert deliver_once(engine, CFG, webhook_ids=[wid]).delivered == 3
    stats = api.ok("GET", f"/v1/webhooks/{wid}")["deliveryStats"]
    assert (stats["DELIVERED"], stats["DEAD"], stats["PENDING"]) == (5, 0, 0) and stats["lastDeliveredAt"]
    assert api.ok("GET", f"/v1/webhooks/{wid}/deliveries", params={"status": "DEAD"})["deliveries"] == []
    assert len(r.got) == 5

    seen, after = [], 0
    while True:
        out = api.ok("GET", "/v1/events", params={"after": after, "maxResults": 2})
        seen += out["events"]
        after = out["nextAfter"]
        if not out["hasMore"]:
            break
    assert [e["data"]["n"] for e in seen] == list(range(5))
    assert all(e["specversion"] == "1.0" and e["source"].endswith(acct) for e in seen)
    assert api.ok("GET", "/v1/events", params={"type": "vulnhound.scan."})["events"] == []
    assert api("GET", "/v1/webhooks/x/deliveries", params={"status": "LOST"}).status_code == 422


def test_other_tenants_and_read_only_keys(service: Any, new_account: Any) -> None:
    _, engine, _ = service
    owner = new_account("owner")
    wid = owner.ok("POST", "/v1/webhooks", 201, json={"url": "http://127.0.0.1:9/h"})["webhookId"]
    emit_some(engine, account_id(owner), 2, subject=f"secret-{secrets.token_hex(4)}")
    intruder = new_account("intruder")
    foreign: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", f"/v1/webhooks/{wid}", {}), ("PATCH", f"/v1/webhooks/{wid}", {"json": {}}),
        ("DELETE", f"/v1/webhooks/{wid}", {}), ("GET", f"/v1/webhooks/{wid}/deliveries", {}),
        ("POST", f"/v1/webhooks/{wid}/deliveries/replay", {"json": {}})]
    for method, path, kw in foreign:
        r = intruder(method, path, **kw)
        assert r.status_code == 404, (method, path, r.status_code)
    assert intruder.ok("GET", "/v1/webhooks")["webhooks"] == []
    assert intruder.ok("GET", "/v1/events")["events"] == []

    ro = owner.as_key(owner.ok("POST", "/v1/keys", 201, json={"name": "ro", "role": "read-only"})["token"])
    assert ro.ok("GET", f"/v1/webhooks/{wid}")["webhookId"] == wid
    assert len(ro.ok("GET", "/v1/events")["events"]) == 2
    for method, path, kw in (("POST", "/v1/webhooks", {"json": {"url": "http://127.0.0.1:9/"}}),
                             ("PATCH", f"/v1/webhooks/{wid}", {"json": {"enabled": False}}),
                             ("DELETE", f"/v1/webhooks/{wid}", {}),
                             ("POST", f"/v1/webhooks/{wid}/deliveries/replay", {})):
        assert ro(method, path, **kw).status_code == 403, (method, path)
    member = owner.as_key(owner.ok("POST", "/v1/keys", 201, json={"name": "m", "role": "member"})["token"])
    assert member.ok("PATCH", f"/v1/webhooks/{wid}", json={"enabled": False})["enabled"] is False


def _finding(acct: str, rid: str, vid: str, package: str) -> dict[str, Any]:
    when = now()
    fid = secrets.token_hex(16)
    return {"id": fid, "account_id": acct, "resource_id": rid, "resource_type": "HOST",
            "type": "PACKAGE_VULNERABILITY", "status": "ACTIVE", "title": f"{vid} - {package}", "severity": "HIGH",
            "severity_rank": 4, "vulnerability_id": vid, "vulnerability_source": "NVD", "package_name": package,
            "package_version": "1.0", "layer_hash": None, "fix_available": "YES", "exploit_available": False,
            "epss_score": -1.0, "risk_score": 5.0, "first_observed_at": when, "last_observed_at": when,
            "updated_at": when, "closed_at": None, "closed_reason": None, "suppressed_by": None,
            "detail": {"findingId": fid, "severity": "HIGH", "title": f"{vid} - {package}"}}


def test_suppression_rules_emit_events(service: Any, new_account: Any) -> None:
    _, engine, _ = service
    api = new_account("supp")
    acct = account_id(api)
    rid = api.ok("POST", "/v1/resources", 201, json={"type": "HOST", "name": "h-events"})["resourceId"]
    rows = [_finding(acct, rid, "CVE-2024-0001", "openssl"), _finding(acct, rid, "CVE-2024-0002", "zlib")]
    with engine.begin() as conn:
        conn.execute(findings.insert(), rows)
    after = max([0] + [e["vulnhoundseq"] for e in api.ok("GET", "/v1/events", params={"maxResults": 1000})["events"]])
    rule = api.ok("POST", "/v1/filters", 201, json={
        "name": "accept-openssl", "action": "SUPPRESS", "reason": "mitigated",
        "filterCriteria": {"vulnerablePackages": [{"name": {"comparison": "EQUALS", "value": "openssl"}}]}})
    assert rule["findingsMoved"] == {"suppressed": 1, "unsuppressed": 0}
    api.ok("DELETE", f"/v1/filters/{rule['filterId']}")
    got = api.ok("GET", "/v1/events", params={"after": after})["events"]
    assert [(e["type"], e["subject"]) for e in got] == [("vulnhound.finding.suppressed", rid),
                                                        ("vulnhound.finding.unsuppressed", rid)]
    sup, unsup = got[0]["data"], got[1]["data"]
    assert sup["findingId"] == unsup["findingId"] == rows[0]["id"]
    assert (sup["status"], sup["suppressedBy"], sup["severity"]) == ("SUPPRESSED", rule["filterId"], "HIGH")
    assert sup["resources"] == [{"id": rid, "type": "HOST"}]
    assert sup["change"]["reason"] == "SUPPRESSION_RULE" and sup["change"]["ruleId"] == rule["filterId"]
    assert unsup["status"] == "ACTIVE" and unsup["change"]["reason"] == "SUPPRESSION_LIFTED"


def test_the_server_delivers_in_the_background(tmp_path: Any, receiver: Any) -> None:
    """``build`` + ``start_jobs``: the delivery loop runs beside the API; ``stop_jobs`` ends it."""
    from fastapi.testclient import TestClient

    from vulnhound.service.server import build

    built = build(f"sqlite:///{tmp_path / 'service.db'}", kb_db=str(tmp_path / "kb.db"))
    headers = {"Authorization": f"Bearer {built.first_admin_key}"}
    r = receiver()
    built.start_jobs()
    try:
        with TestClient(built.app) as client:
            wid = client.post("/v1/webhooks", json={"url": r.url}, headers=headers).json()["webhookId"]
            acct = client.get("/v1/account", headers=headers).json()["accountId"]
            engine = built.app.state.settings.engine
            emit_some(engine, acct, 3)
            assert r.wait(3, timeout=20)
            stats = client.get(f"/v1/webhooks/{wid}", headers=headers).json()["deliveryStats"]
    finally:
        built.stop_jobs()
    assert [json.loads(g.body)["data"]["n"] for g in r.got] == [0, 1, 2]
    assert stats["DELIVERED"] + stats["PENDING"] == 3
