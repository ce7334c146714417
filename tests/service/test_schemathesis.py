"""schemathesis over every operation of the OpenAPI document, in-process on a SQLite store: no request, however
odd, gets a server error (5xx). Path ids are sometimes swapped for real ones so the handlers behind the 404s run."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from conftest import POSTGRES, _pg_database, write_function_zip, write_rootfs
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode

from vulnhound.advisories.model import Advisory
from vulnhound.exports.inventory_json import to_wire
from vulnhound.inventory.build import build_inventory
from vulnhound.matching.index import MemoryIndex
from vulnhound.service.api.app import create_app
from vulnhound.service.api.deps import Settings
from vulnhound.service.db.engine import open_store
from vulnhound.service.domain.accounts import bootstrap
from vulnhound.sources.resolve import open_source

EXAMPLES = 20  # per operation: ~45 operations, ~10 s on a quiet machine (45 s at load 8)


@pytest.fixture(params=["sqlite", POSTGRES])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    # PostgreSQL refuses values SQLite takes (NUL characters, over-long strings, mistyped comparisons)
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'service.db'}"
    else:
        yield from _pg_database()


@pytest.fixture
def app(store_url: str, tmp_path: Path, advisories: list[Advisory]
        ) -> Iterator[tuple[FastAPI, str, dict[str, list[str]]]]:
    """(app, admin token, real ids by path parameter name) on a fresh store with one scanned host."""
    engine = open_store(store_url)
    with engine.begin() as conn:
        token = bootstrap(conn)
    assert token is not None
    root = tmp_path / "scanroot"
    app = create_app(Settings(engine=engine, index=lambda: MemoryIndex(advisories), scan_roots=(root,),
                              max_upload=512 * 1024))
    headers = {"Authorization": f"Bearer {token}"}
    with TestClient(app) as client:
        def post(url: str, body: Any) -> dict[str, Any]:
            r = client.post(url, json=body, headers=headers)
            assert r.status_code in (200, 201), r.text
            doc: dict[str, Any] = r.json()
            return doc

        with open_source(f"dir:{write_rootfs(root / 'h1')}") as src:
            doc = to_wire(build_inventory(src))
        rids = [post("/v1/resources", {"type": t, "name": f"r{i}", "tags": {"env": "prod"}})["resourceId"]
                for i, t in enumerate(("HOST", "FUNCTION", "CONTAINER_IMAGE"))]
        sids = [post(f"/v1/resources/{rids[0]}/inventory", doc)["scanId"],
                post("/v1/scans", {"resourceId": rids[1],
                                   "target": f"zip:{write_function_zip(root / 'fn.zip')}"})["scanId"]]
        fids = [f["findingId"] for f in post("/v1/findings/list", {})["findings"]]
        assert fids
        rule = post("/v1/filters", {"name": "r", "filterCriteria": {"severity": [
            {"comparison": "EQUALS", "value": "LOW"}]}, "reason": "x"})["filterId"]
        # DELETE gets victims of its own: the key we speak with and the resources the other operations read stay
        victims = {"resource_id": [post("/v1/resources", {"type": "SBOM", "name": "v"})["resourceId"]],
                   "filter_id": [post("/v1/filters", {"name": "v", "action": "NONE", "filterCriteria": {}})[
                       "filterId"]],
                   "key_id": [post("/v1/keys", {"name": "victim", "role": "read-only"})["keyId"]]}
    ids = {"resource_id": rids, "scan_id": sids, "finding_id": fids, "filter_id": [rule]}
    ids |= {f"DELETE {k}": v for k, v in victims.items()}
    yield app, token, ids
    engine.dispose()


def _operations(app: FastAPI) -> Iterator[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    for result in schema.get_all_operations():
        yield result.ok()


def _run(op: Any, ids: dict[str, list[str]], headers: dict[str, str]) -> None:
    """EXAMPLES cases of one operation (positive and negative); raises on the first server error."""
    names = [p.name for p in op.path_parameters]
    prefix = "DELETE " if op.method.upper() == "DELETE" else ""
    cases = st.one_of(op.as_strategy(GenerationMode.POSITIVE), op.as_strategy(GenerationMode.NEGATIVE))

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(case=cases, real=st.booleans(), pick=st.integers(0, 5))
    def run(case: Any, real: bool, pick: int) -> None:
        if real:
            for name in names:
                known = ids.get(prefix + name) or [secrets.token_hex(16)]
                case.path_parameters[name] = known[pick % len(known)]
            for where in (case.query, case.body):  # resourceId in a query or a body names a real one too
                if isinstance(where, dict) and "resourceId" in where:
                    where["resourceId"] = ids["resource_id"][pick % 3]
        response = case.call(headers=headers)
        case.validate_response(response, checks=[not_a_server_error])

    run()


def test_no_server_errors(app: tuple[FastAPI, str, dict[str, list[str]]]) -> None:
    asgi, token, ids = app
    headers = {"Authorization": f"Bearer {token}"}
    operations = list(_operations(asgi))
    assert len(operations) >= 25
    failures: list[str] = []
    for op in operations:
        try:
            _run(op, ids, headers)
        except Exception as exc:  # collect every operation's failure, then report them together
            failures.append(f"{op.method.upper()} {op.path}: {exc}")
    assert not failures, "\n\n".join(failures)
