"""Suppression rules act at once and are reversible; aggregations agree with counting the list by hand; reports."""

from __future__ import annotations

import csv
import io
from collections import Counter
from typing import Any

from conftest import Api, write_function_zip, write_rootfs
from test_lifecycle import eq, findings, scan


def populated(service: Any, new_account: Any, tag: str) -> tuple[Api, str, str]:
    _, _, root = service
    api = new_account()
    hid = api.ok("POST", "/v1/resources", 201, json={"type": "HOST", "name": f"h-{tag}",
                                                     "tags": {"team": "a"}})["resourceId"]
    scan(api, hid, f"dir:{write_rootfs(root / f'sup-{tag}')}")
    fid = api.ok("POST", "/v1/resources", 201, json={"type": "FUNCTION", "name": f"f-{tag}"})["resourceId"]
    scan(api, fid, f"zip:{write_function_zip(root / f'sup-{tag}.zip')}")
    return api, hid, fid


def statuses(api: Api) -> Counter[str]:
    return Counter(f["status"] for f in findings(api))


def test_rule_create_edit_delete_moves_findings_at_once(service: Any, new_account: Any) -> None:
    api, hid, fid = populated(service, new_account, "rules")
    assert statuses(api) == {"ACTIVE": 6}
    rule = api.ok("POST", "/v1/filters", 201, json={
        "name": "jinja-accepted", "action": "SUPPRESS", "reason": "sandbox not used",
        "filterCriteria": {"vulnerablePackages": [{"name": {"comparison": "EQUALS", "value": "jinja2"}}]}})
    assert rule["findingsMoved"] == {"suppressed": 2, "unsuppressed": 0}
    suppressed = findings(api, eq("findingStatus", "SUPPRESSED"))
    assert {f["packageVulnerabilityDetails"]["vulnerablePackages"][0]["name"] for f in suppressed} == {"jinja2"}
    assert {f["suppressedBy"] for f in suppressed} == {rule["filterId"]}

    # a rescan keeps them suppressed, and new findings matching a rule arrive suppressed
    scan(api, hid, f"dir:{service[2] / 'sup-rules'}")
    assert statuses(api) == {"ACTIVE": 4, "SUPPRESSED": 2}

    edited = api.ok("PATCH", f"/v1/filters/{rule['filterId']}", json={
        "filterCriteria": {"resourceType": [{"comparison": "EQUALS", "value": "FUNCTION"}]}})
    assert edited["findingsMoved"] == {"suppressed": 3, "unsuppressed": 2}
    assert {f["resources"][0]["id"] for f in findings(api, eq("findingStatus", "SUPPRESSED"))} == {fid}

    moved = api.ok("DELETE", f"/v1/filters/{rule['filterId']}")["findingsMoved"]
    assert moved == {"suppressed": 0, "unsuppressed": 3}
    assert statuses(api) == {"ACTIVE": 6}
    one = findings(api, {**eq("resourceId", fid), **eq("vulnerabilityId", "CVE-2005-4644")})[0]
    reasons = [h["reason"] for h in api.ok("GET", f"/v1/findings/{one['findingId']}/history")["history"]]
    assert reasons == ["CREATED", "SUPPRESSION_RULE", "SUPPRESSION_LIFTED"]
    actions = [e["action"] for e in api.ok("GET", "/v1/audit")["events"]]
    assert {"filter.create", "filter.update", "filter.delete"} <= set(actions)


def test_saved_filter_and_expired_rule_do_not_suppress(service: Any, new_account: Any) -> None:
    api, _, _ = populated(service, new_account, "saved")
    api.ok("POST", "/v1/filters", 201, json={"name": "just-saved", "action": "NONE",
                                             "filterCriteria": eq("resourceType", "HOST")})
    api.ok("POST", "/v1/filters", 201, json={"name": "lapsed", "action": "SUPPRESS", "expiresAt": "2001-01-01",
                                             "filterCriteria": eq("resourceType", "HOST")})
    assert statuses(api) == {"ACTIVE": 6}
    assert [f["name"] for f in api.ok("GET", "/v1/filters")["filters"]] == ["just-saved", "lapsed"]
    r = api("POST", "/v1/filters", json={"name": "everything", "action": "SUPPRESS", "filterCriteria": {}})
    assert r.status_code == 422 and "every finding" in r.json()["detail"]
    r = api("POST", "/v1/filters", json={"name": "circular", "filterCriteria": eq("findingStatus", "ACTIVE")})
    assert r.status_code == 422
    r = api("POST", "/v1/filters", json={"name": "just-saved", "filterCriteria": eq("resourceType", "HOST")})
    assert r.status_code == 409


def by_hand(items: list[dict[str, Any]], key: Any) -> dict[str, Counter[str]]:
    out: dict[str, Counter[str]] = {}
    for f in items:
        out.setdefault(key(f), Counter())[f["severity"].lower()] += 1
    return out


def test_aggregations_agree_with_the_list(service: Any, new_account: Any) -> None:
    api, hid, _ = populated(service, new_account, "agg")
    api.ok("POST", "/v1/filters", 201, json={"name": "trac", "filterCriteria": eq("vulnerabilityId",
                                                                                   "CVE-2005-4644")})
    active = findings(api, eq("findingStatus", "ACTIVE"))
    assert len(active) == 5
    keys = {
        "RESOURCE": ("resourceId", lambda f: f["resources"][0]["id"]),
        "RESOURCE_TYPE": ("resourceType", lambda f: f["resources"][0]["type"]),
        "PACKAGE": ("packageName", lambda f: f["packageVulnerabilityDetails"]["vulnerablePackages"][0]["name"]),
        "VULNERABILITY": ("vulnerabilityId", lambda f: f["packageVulnerabilityDetails"]["vulnerabilityId"]),
        "ACCOUNT": ("accountId", lambda f: f["accountId"]),
        "FINDING_TYPE": ("findingType", lambda f: f["type"]),
    }
    for kind, (label, key) in keys.items():
        got = api.ok("POST", "/v1/findings/aggregations", json={"aggregationType": kind})
        expected = by_hand(active, key)
        assert {g[label] for g in got["counts"]} == set(expected), kind
        for g in got["counts"]:
            counts = {k: v for k, v in g["severityCounts"].items() if v and k != "all"}
            assert counts == dict(expected[g[label]]), kind
            assert g["severityCounts"]["all"] == sum(expected[g[label]].values())
    host_only = api.ok("POST", "/v1/findings/aggregations", json={
        "aggregationType": "PACKAGE", "filterCriteria": eq("resourceId", hid)})
    assert sorted(g["packageName"] for g in host_only["counts"]) == ["intel-microcode", "jinja2"]
    layers = api.ok("POST", "/v1/findings/aggregations", json={"aggregationType": "IMAGE_LAYER"})
    assert layers["counts"] == []  # directories have no layers


def test_reports_csv_and_json(service: Any, new_account: Any) -> None:
    api, _, _ = populated(service, new_account, "report")
    text = api.ok("POST", "/v1/findings/report", json={"reportFormat": "CSV",
                                                        "filterCriteria": eq("resourceType", "FUNCTION")})
    rows = list(csv.DictReader(io.StringIO(text)))
    assert sorted(r["vulnerabilityId"] for r in rows) == ["CVE-2005-4644", "CVE-2018-18074", "CVE-2023-32681"]
    assert {r["packageName"] for r in rows} == {"trac", "requests"}
    doc = api.ok("POST", "/v1/findings/report", json={"reportFormat": "JSON"})
    assert len(doc["findings"]) == 6
