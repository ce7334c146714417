"""Every GET list endpoint pages with ``maxResults``/``nextToken``: the pages add up to the one-page list, in the
same order, and a garbage token or one from another listing is 422."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import Api, write_rootfs
from test_api_errors import problem

from vulnhound.exports.inventory_json import to_wire
from vulnhound.inventory.build import build_inventory
from vulnhound.sources.resolve import open_source


def pages(api: Api, url: str, key: str, size: int, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    token = None
    while True:
        body = api.ok("GET", url, params={**params, "maxResults": size, **({"nextToken": token} if token else {})})
        assert len(body[key]) <= size
        out += body[key]
        if not (token := body["nextToken"]):
            return out


@pytest.fixture
def filled(new_account: Any, tmp_path: Path) -> Api:
    api = new_account("pages")
    with open_source(f"dir:{write_rootfs(tmp_path / 'root')}") as src:
        doc = to_wire(build_inventory(src))
    for i in range(7):
        rid = api.ok("POST", "/v1/resources", 201, json={"type": "HOST" if i % 2 else "SBOM", "name": f"h{i}"})[
            "resourceId"]
        api.ok("POST", f"/v1/resources/{rid}/inventory", 201, json=doc)
        api.ok("POST", "/v1/filters", 201, json={"name": f"f{i}", "action": "NONE", "filterCriteria": {}})
    return api


@pytest.mark.parametrize(("url", "key", "params"), [
    ("/v1/resources", "resources", {}), ("/v1/resources", "resources", {"type": "HOST"}),
    ("/v1/scans", "scans", {}), ("/v1/filters", "filters", {}), ("/v1/audit", "events", {}),
    ("/v1/coverage", "coveredResources", {}), ("/v1/coverage", "coveredResources", {"resourceType": "SBOM"}),
])
def test_pages_add_up_to_the_whole_list(filled: Api, url: str, key: str, params: dict[str, Any]) -> None:
    whole = filled.ok("GET", url, params={**params, "maxResults": 1000})
    assert whole["nextToken"] is None and len(whole[key]) >= 3
    for size in (1, 2, 3):
        assert pages(filled, url, key, size, **params) == whole[key]


def test_bad_tokens_are_422(filled: Api) -> None:
    token = filled.ok("GET", "/v1/resources", params={"maxResults": 2})["nextToken"]
    assert token
    problem(filled("GET", "/v1/scans", params={"nextToken": token}), 422)
    doc = problem(filled("GET", "/v1/resources", params={"nextToken": token, "type": "HOST"}), 422)
    assert "another listing" in doc["detail"]
    problem(filled("GET", "/v1/coverage", params={"nextToken": token}), 422)
    for garbage in ("nope", "e30", "eyJrIjpbMV0sImgiOiJ4In0"):
        problem(filled("GET", "/v1/audit", params={"nextToken": garbage}), 422)
    problem(filled("GET", "/v1/filters", params={"maxResults": 0}), 422)
