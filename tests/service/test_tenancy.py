"""Tenant isolation on every endpoint, and read-only keys that cannot write.

The walk is checked against the app's route table, so an endpoint added later without a case here fails.
"""

from __future__ import annotations

from typing import Any

from conftest import Api, write_rootfs
from test_lifecycle import findings, scan

OWNER_ONLY = 404  # another tenant's ids do not exist, whatever the key's role


def owned(service: Any, new_account: Any) -> tuple[Api, dict[str, str]]:
    _, _, root = service
    api = new_account("owner")
    rid = api.ok("POST", "/v1/resources", 201, json={"type": "HOST", "name": "secret-host",
                                                     "tags": {"k": "v"}})["resourceId"]
    sid = scan(api, rid, f"dir:{write_rootfs(root / 'tenant-a')}")["scanId"]
    fid = findings(api)[0]["findingId"]
    flt = api.ok("POST", "/v1/filters", 201, json={"name": "mine", "action": "NONE",
                                                   "filterCriteria": {"resourceId": [
                                                       {"comparison": "EQUALS", "value": rid}]}})["filterId"]
    key = api.ok("POST", "/v1/keys", 201, json={"name": "ro", "role": "read-only"})
    wh = api.ok("POST", "/v1/webhooks", 201, json={"url": "http://127.0.0.1:9/hook"})["webhookId"]
    return api, {"rid": rid, "sid": sid, "fid": fid, "flt": flt, "key": key["keyId"], "ro": key["token"], "wh": wh}


def walk(ids: dict[str, str], doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any], int | None]]:
    """(method, path, request kwargs, expected status for a foreign admin key; None = 2xx with nothing foreign)."""
    rid, crit = ids["rid"], {"resourceId": [{"comparison": "EQUALS", "value": ids["rid"]}]}
    return [
        ("GET", "/v1/health", {}, None),
        ("POST", "/v1/accounts", {"json": {"name": "sneaky"}}, 403),
        ("GET", "/v1/accounts", {}, None),
        ("GET", "/v1/account", {}, None),
        ("POST", "/v1/keys", {"json": {"name": "x", "role": "member"}}, None),
        ("GET", "/v1/keys", {}, None),
        ("DELETE", f"/v1/keys/{ids['key']}", {}, OWNER_ONLY),
        ("GET", "/v1/audit", {}, None),
        ("POST", "/v1/resources", {"json": {"type": "HOST", "name": "secret-host"}}, None),
        ("GET", "/v1/resources", {}, None),
        ("GET", f"/v1/resources/{rid}", {}, OWNER_ONLY),
        ("DELETE", f"/v1/resources/{rid}", {}, OWNER_ONLY),
        ("PUT", f"/v1/resources/{rid}/tags", {"json": {"tags": {"pwned": "1"}}}, OWNER_ONLY),
        ("POST", f"/v1/resources/{rid}/inventory", {"json": doc}, OWNER_ONLY),
        ("POST", "/v1/scans", {"json": {"resourceId": rid, "target": "dir:/"}}, OWNER_ONLY),
        ("GET", "/v1/scans", {"params": {"resourceId": rid}}, None),
        ("GET", f"/v1/scans/{ids['sid']}", {}, OWNER_ONLY),
        ("GET", f"/v1/resources/{rid}/sbom", {}, OWNER_ONLY),
        ("GET", "/v1/coverage", {}, None),
        ("GET", "/v1/coverage/statistics", {}, None),
        ("POST", "/v1/findings/list", {"json": {"filterCriteria": crit}}, None),
        ("GET", f"/v1/findings/{ids['fid']}", {}, OWNER_ONLY),
        ("GET", f"/v1/findings/{ids['fid']}/history", {}, OWNER_ONLY),
        ("GET", "/v1/exposure", {"params": {"resourceId": rid, "vulnerabilityId": "DSA-5474-1",
                                            "at": "2100-01-01"}}, OWNER_ONLY),
        ("POST", "/v1/findings/aggregations", {"json": {"aggregationType": "RESOURCE"}}, None),
        ("POST", "/v1/findings/report", {"json": {"reportFormat": "JSON"}}, None),
        ("POST", "/v1/filters", {"json": {"name": "steal", "filterCriteria": crit}}, None),
        ("GET", "/v1/filters", {}, None),
        ("GET", f"/v1/filters/{ids['flt']}", {}, OWNER_ONLY),
        ("PATCH", f"/v1/filters/{ids['flt']}", {"json": {"name": "renamed"}}, OWNER_ONLY),
        ("DELETE", f"/v1/filters/{ids['flt']}", {}, OWNER_ONLY),
        ("POST", "/v1/webhooks", {"json": {"url": "http://127.0.0.1:9/mine"}}, None),
        ("GET", "/v1/webhooks", {}, None),
        ("GET", f"/v1/webhooks/{ids['wh']}", {}, OWNER_ONLY),
        ("PATCH", f"/v1/webhooks/{ids['wh']}", {"json": {"url": "http://127.0.0.1:9/stolen"}}, OWNER_ONLY),
        ("DELETE", f"/v1/webhooks/{ids['wh']}", {}, OWNER_ONLY),
        ("GET", f"/v1/webhooks/{ids['wh']}/deliveries", {}, OWNER_ONLY),
        ("POST", f"/v1/webhooks/{ids['wh']}/deliveries/replay", {"json": {}}, OWNER_ONLY),
        ("GET", "/v1/events", {}, None),
    ]


def _templates(app: Any) -> set[tuple[str, str]]:
    out = set()
    for route in app.routes:
        path = getattr(route, "path", "")
        if path.startswith("/v1"):
            out |= {(m, path) for m in route.methods if m not in ("HEAD", "OPTIONS")}
    return out


def test_second_account_reads_and_writes_nothing_of_the_first(service: Any, new_account: Any) -> None:
    owner, ids = owned(service, new_account)
    doc = owner.ok("GET", f"/v1/resources/{ids['rid']}/sbom")  # any JSON; the push must fail before reading it
    before = {"findings": findings(owner), "resource": owner.ok("GET", f"/v1/resources/{ids['rid']}"),
              "filters": owner.ok("GET", "/v1/filters"), "keys": owner.ok("GET", "/v1/keys")}
    other = new_account("intruder")
    cases = walk(ids, doc)
    for method, path, kw, expected in cases:
        r = other(method, path, **kw)
        if expected is None:
            assert r.status_code < 300, (method, path, r.status_code, r.text)
            text = r.text
            if path.startswith("/v1/filters"):  # the intruder's own rule echoes the id it was given
                text = text.replace(ids["rid"], "")
            for secret in (ids["rid"], ids["fid"], ids["sid"], ids["flt"], ids["key"], ids["wh"]):
                assert secret not in text, (method, path)
        else:
            assert r.status_code == expected, (method, path, r.status_code, r.text)
            assert r.headers["content-type"] == "application/problem+json"
    templates = _templates(service[0].client.app)
    walked = {(m, p) for m, p, _, _ in cases}
    for m, tpl in templates:
        prefix = tpl.split("{", 1)[0]
        assert any(wm == m and wp.startswith(prefix) and wp.count("/") == tpl.count("/") for wm, wp in walked), (m, tpl)
    after = {"findings": findings(owner), "resource": owner.ok("GET", f"/v1/resources/{ids['rid']}"),
             "filters": owner.ok("GET", "/v1/filters"), "keys": owner.ok("GET", "/v1/keys")}
    assert after == before
    assert other.ok("POST", "/v1/findings/list", json={})["findings"] == []


def test_read_only_key_cannot_write(service: Any, new_account: Any) -> None:
    owner, ids = owned(service, new_account)
    ro = owner.as_key(ids["ro"])
    doc = owner.ok("GET", f"/v1/resources/{ids['rid']}/sbom")
    before = findings(owner)
    for method, path, kw, _ in walk(ids, doc):
        r = ro(method, path, **kw)
        if method == "GET" or path in ("/v1/findings/list", "/v1/findings/aggregations", "/v1/findings/report"):
            allowed = 200 if not path.startswith(("/v1/keys", "/v1/audit")) else 403
            assert r.status_code == allowed, (method, path, r.status_code, r.text)
        else:
            assert r.status_code == 403, (method, path, r.status_code, r.text)
    assert findings(owner) == before
    assert owner.ok("GET", f"/v1/resources/{ids['rid']}")["tags"] == {"k": "v"}


def test_member_key_writes_but_does_not_manage_keys(service: Any, new_account: Any) -> None:
    owner, ids = owned(service, new_account)
    member = owner.as_key(owner.ok("POST", "/v1/keys", 201, json={"name": "m", "role": "member"})["token"])
    assert member("PUT", f"/v1/resources/{ids['rid']}/tags", json={"tags": {"a": "b"}}).status_code == 200
    assert member("POST", "/v1/keys", json={"name": "x", "role": "admin"}).status_code == 403
    assert member("DELETE", f"/v1/keys/{ids['key']}").status_code == 403
    assert owner("DELETE", f"/v1/keys/{ids['key']}").status_code == 204
    assert owner.as_key(ids["ro"])("GET", "/v1/resources").status_code == 401
