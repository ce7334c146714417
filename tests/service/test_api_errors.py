"""Bad input gets a precise problem+json answer: oversized and malformed uploads, unknown filter fields, invalid
cursors, missing or wrong keys, unknown ids; the OpenAPI document is served."""

from __future__ import annotations

import json
from typing import Any

import pytest
from conftest import Api

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    doc: dict[str, Any] = r.json()
    assert set(doc) >= PROBLEM_KEYS and doc["status"] == status
    return doc


@pytest.fixture
def api_host(new_account: Any) -> tuple[Api, str]:
    api = new_account()
    return api, api.ok("POST", "/v1/resources", 201, json={"type": "HOST", "name": "h"})["resourceId"]


def test_oversized_upload_is_413(api_host: tuple[Api, str]) -> None:
    api, rid = api_host
    body = b'{"packages": [' + b'{"name": "x"},' * 200_000 + b'{}]}'
    doc = problem(api("POST", f"/v1/resources/{rid}/inventory", content=body,
                      headers={"content-type": "application/json"}), 413)
    assert "limit" in doc["detail"]

    def chunks() -> Any:  # no Content-Length: the limit must hold while streaming
        for _ in range(300):
            yield b" " * 10_000
    problem(api("POST", f"/v1/resources/{rid}/inventory", content=chunks(),
                headers={"content-type": "application/json"}), 413)


def test_malformed_and_invalid_inventories_are_422(api_host: tuple[Api, str]) -> None:
    api, rid = api_host
    doc = problem(api("POST", f"/v1/resources/{rid}/inventory", content=b'{"source": ',
                      headers={"content-type": "application/json"}), 422)
    assert "not JSON" in doc["detail"]
    doc = problem(api("POST", f"/v1/resources/{rid}/inventory", json={"schemaVersion": 1, "packages": "many"}), 422)
    assert doc["errors"] and all({"field", "message"} <= set(e) for e in doc["errors"])
    assert api.ok("GET", "/v1/scans", params={"resourceId": rid})["scans"] == []  # nothing queued


def test_unknown_filter_fields_and_bad_values_are_rejected(api_host: tuple[Api, str]) -> None:
    api, _ = api_host
    doc = problem(api("POST", "/v1/findings/list", json={"filterCriteria": {"severty": []}}), 422)
    assert any("severty" in e["field"] for e in doc["errors"])
    problem(api("POST", "/v1/findings/list", json={"filterCriteria": {"severity": [
        {"comparison": "LIKE", "value": "HIGH"}]}}), 422)
    problem(api("POST", "/v1/findings/list", json={"filterCriteria": {"firstObservedAt": [
        {"startInclusive": "yesterday"}]}}), 422)
    problem(api("POST", "/v1/findings/list", json={"sortCriteria": {"field": "COLOR"}}), 422)
    problem(api("POST", "/v1/findings/list", json={"maxResults": 1000}), 422)
    problem(api("POST", "/v1/findings/list", json={"surprise": 1}), 422)
    problem(api("POST", "/v1/findings/aggregations", json={"aggregationType": "PLANET"}), 422)
    problem(api("POST", "/v1/filters", json={"name": "has space", "filterCriteria": {}}), 422)


@pytest.mark.parametrize("token", ["garbage!", "eyJ2IjoxfQ", "e30", "W10"])
def test_invalid_cursors_are_422(api_host: tuple[Api, str], token: str) -> None:
    api, _ = api_host
    doc = problem(api("POST", "/v1/findings/list", json={"nextToken": token}), 422)
    assert "nextToken" in doc["detail"]


def test_cursor_from_another_query_is_rejected(service: Any, new_account: Any) -> None:
    from vulnhound.service.domain.criteria import FilterCriteria
    from vulnhound.service.domain.queries import SortCriteria, _fingerprint, encode_cursor

    api = new_account()
    fp = _fingerprint(FilterCriteria(), SortCriteria())
    token = encode_cursor(3, "f" * 32, fp)
    assert api("POST", "/v1/findings/list", json={"nextToken": token}).status_code == 200
    doc = problem(api("POST", "/v1/findings/list", json={"nextToken": token, "sortCriteria": {
        "field": "RISK_SCORE"}}), 422)
    assert "other filterCriteria" in doc["detail"]


def test_auth_and_unknown_ids(service: Any, api_host: tuple[Api, str]) -> None:
    api, _ = api_host
    client = service[0].client
    problem(client.get("/v1/resources"), 401)
    problem(client.get("/v1/resources", headers={"Authorization": "Bearer vh_0000_nope"}), 401)
    problem(client.get("/v1/resources", headers={"X-Api-Key": "not-even-shaped"}), 401)
    for path in ("/v1/resources/nope", "/v1/findings/nope", "/v1/scans/nope", "/v1/filters/nope",
                 "/v1/findings/nope/history"):
        problem(api("GET", path), 404)
    problem(api("GET", "/v1/no-such-endpoint"), 404)
    problem(api("POST", "/v1/resources", json={"type": "SPACESHIP", "name": "x"}), 422)
    api.ok("POST", "/v1/resources", 201, json={"type": "HOST", "name": "dup"})
    problem(api("POST", "/v1/resources", json={"type": "HOST", "name": "dup"}), 409)
    problem(api("POST", "/v1/keys", json={"name": "k", "role": "superuser"}), 422)


def test_server_side_scan_is_confined_to_scan_roots(api_host: tuple[Api, str]) -> None:
    api, rid = api_host
    doc = problem(api("POST", "/v1/scans", json={"resourceId": rid, "target": "dir:/etc"}), 403)
    assert "scan roots" in doc["detail"]
    problem(api("POST", "/v1/scans", json={"resourceId": rid, "target": "registry:alpine"}), 422)


def test_openapi_document(service: Any) -> None:
    r = service[0].client.get("/openapi.json")
    assert r.status_code == 200
    spec = json.loads(r.text)
    assert {"/v1/findings/list", "/v1/filters", "/v1/coverage", "/v1/exposure"} <= set(spec["paths"])
    assert "FilterCriteria" in spec["components"]["schemas"]
