"""Input that once reached the database or the parser as a server error now gets a 4xx problem: forged cursors of
the wrong type, dates outside years 1-9999, JSON nested too deeply, NUL characters (PostgreSQL text refuses them),
over-long identities; and a server whose database is unreachable stops at start with the URL and exit code 2."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import Api
from test_api_errors import problem
from typer.testing import CliRunner

from vulnhound.cli.main import app as cli
from vulnhound.service.domain.criteria import FilterCriteria
from vulnhound.service.domain.queries import SortCriteria, _fingerprint, encode_cursor


@pytest.fixture
def api_host(new_account: Any) -> tuple[Api, str]:
    api = new_account("bad")
    return api, api.ok("POST", "/v1/resources", 201, json={"type": "HOST", "name": "h"})["resourceId"]


@pytest.mark.parametrize(("field", "value"), [("RISK_SCORE", "abc"), ("SEVERITY", float("inf")), ("SEVERITY", True),
                                              ("LAST_OBSERVED_AT", 1.5), ("VULNERABILITY_ID", "a\x00")])
def test_forged_cursor_of_the_wrong_type_is_422(api_host: tuple[Api, str], field: str, value: Any) -> None:
    api, _ = api_host
    sort = {"field": field}
    token = encode_cursor(value, "ab" * 16, _fingerprint(FilterCriteria(), SortCriteria(field=field)))  # type: ignore[arg-type]
    doc = problem(api("POST", "/v1/findings/list", json={"sortCriteria": sort, "nextToken": token}), 422)
    assert "nextToken" in doc["detail"]


def test_forged_cursor_of_the_right_type_pages(api_host: tuple[Api, str]) -> None:
    api, _ = api_host
    big = encode_cursor(10**30, "ab" * 16, _fingerprint(FilterCriteria(), SortCriteria()))  # SQLite has no such int
    assert api.ok("POST", "/v1/findings/list", json={"nextToken": big})["findings"] == []
    token = encode_cursor("2026-01-01T00:00:00.000000Z", "ab" * 16,
                          _fingerprint(FilterCriteria(), SortCriteria(field="LAST_OBSERVED_AT")))
    page = api.ok("POST", "/v1/findings/list", json={"sortCriteria": {"field": "LAST_OBSERVED_AT"},
                                                     "nextToken": token})
    assert page == {"findings": [], "nextToken": None}


def test_dates_outside_the_calendar_are_422(api_host: tuple[Api, str]) -> None:
    api, rid = api_host
    year1 = "0001-01-01T00:00:00+01:00"  # before 0001-01-01 in UTC
    doc = problem(api("GET", "/v1/exposure", params={"resourceId": rid, "vulnerabilityId": "CVE-1", "at": year1}), 422)
    assert "ISO-8601" in doc["detail"]
    problem(api("POST", "/v1/findings/list", json={"filterCriteria": {"updatedAt": [{"startInclusive": year1}]}}),
            422)
    problem(api("POST", "/v1/filters", json={"name": "y1", "expiresAt": year1, "filterCriteria": {
        "title": [{"comparison": "EQUALS", "value": "x"}]}}), 422)


def test_json_nested_too_deeply_is_422(api_host: tuple[Api, str]) -> None:
    api, rid = api_host
    deep = b"[" * 100_000 + b"]" * 100_000
    doc = problem(api("POST", f"/v1/resources/{rid}/inventory", content=deep,
                      headers={"content-type": "application/json"}), 422)
    assert "not JSON" in doc["detail"]
    assert api("POST", "/v1/findings/list", content=deep,
               headers={"content-type": "application/json"}).status_code in (400, 422)


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/v1/resources", {"type": "HOST", "name": "nul\x00host"}),
    ("POST", "/v1/keys", {"name": "nul\x00key"}),
    ("POST", "/v1/findings/list", {"filterCriteria": {"title": [{"comparison": "EQUALS", "value": "a\x00"}]}}),
    ("POST", "/v1/filters", {"name": "nul", "filterCriteria": {"title": [{"comparison": "PREFIX", "value": "\x00"}]}}),
])
def test_nul_characters_never_make_a_server_error(api_host: tuple[Api, str], method: str, path: str,
                                                  body: dict[str, Any]) -> None:
    api, _ = api_host
    r = api(method, path, json=body)
    assert r.status_code < 500, r.text  # SQLite stores NUL; PostgreSQL refuses it: 422 with the reason
    if r.status_code == 422:
        assert "NUL" in problem(r, 422)["detail"]


def test_nul_in_path_and_query_is_not_a_server_error(api_host: tuple[Api, str]) -> None:
    api, rid = api_host
    assert api("GET", "/v1/resources/a%00b").status_code in (404, 422)
    assert api("GET", "/v1/exposure", params={"resourceId": rid, "vulnerabilityId": "X\x00",
                                              "at": "2026-01-01"}).status_code in (200, 422)


def test_identity_longer_than_its_column_is_422(api_host: tuple[Api, str]) -> None:
    api, _ = api_host
    doc = problem(api("POST", "/v1/resources", json={"type": "CONTAINER_IMAGE", "name": "r" * 500,
                                                     "details": {"imageDigest": "sha256:" + "a" * 400}}), 422)
    assert "700" in doc["detail"]


@pytest.mark.parametrize("url", ["postgresql+psycopg://postgres:s3cret@127.0.0.1:1/nowhere",
                                 "sqlite:////proc/no-such-dir/service.db"])
def test_unreachable_database_stops_the_server_at_start(url: str) -> None:
    result = CliRunner().invoke(cli, ["server", "--database-url", url, "--port", "1"])
    assert result.exit_code == 2, result.output
    assert "cannot use the database at" in result.output
    assert "s3cret" not in result.output
