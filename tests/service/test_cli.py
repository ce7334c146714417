"""``vulnhound remote`` against a real server on 127.0.0.1 (uvicorn in a thread), and ``--filter`` parsing."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from conftest import write_function_zip, write_rootfs
from typer.testing import CliRunner

from vulnhound.cli.main import app
from vulnhound.cli.remote import RemoteError, parse_filters, upload_inventory


def test_parse_filters() -> None:
    crit = parse_filters(["severity=HIGH", "vulnerabilityId^=CVE-2024", "packageName!=openssl", "riskScore>=7",
                          "lastObservedAt<=2026-01-01", "tag:env=prod"])
    assert crit == {
        "severity": [{"comparison": "EQUALS", "value": "HIGH"}],
        "vulnerabilityId": [{"comparison": "PREFIX", "value": "CVE-2024"}],
        "vulnerablePackages": [{"name": {"comparison": "NOT_EQUALS", "value": "openssl"}}],
        "riskScore": [{"lowerInclusive": 7.0}],
        "lastObservedAt": [{"endInclusive": "2026-01-01"}],
        "resourceTags": [{"comparison": "EQUALS", "key": "env", "value": "prod"}],
    }
    for bad in ("severity", "title>=3"):
        with pytest.raises(ValueError):
            parse_filters([bad])


@pytest.fixture
def live(service: Any, new_account: Any) -> Iterator[tuple[str, str, Path]]:
    """(server URL, a fresh account's admin key, scan root) with the session's app served by uvicorn."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(service[0].client.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start within 30 s"
    try:
        yield f"http://127.0.0.1:{port}", new_account("cli").token, service[2]
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def run(url: str, key: str, *args: str) -> Any:
    result = CliRunner().invoke(app, ["remote", "--server", url, "--api-key", key, *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_remote_commands_end_to_end(live: tuple[str, str, Path]) -> None:
    url, key, root = live
    host = json.loads(run(url, key, "resources", "add", "HOST", "cli-host", "--tag", "env=prod"))
    fn = json.loads(run(url, key, "resources", "add", "function", "cli-fn"))
    listed = run(url, key, "resources", "list")
    assert host["resourceId"] in listed and "PENDING_INITIAL_SCAN" in listed

    rootfs = write_rootfs(root / "cli-host")
    pushed = json.loads(run(url, key, "scan", host["resourceId"], "--local", f"dir:{rootfs}"))
    assert (pushed["kind"], pushed["status"], pushed["stats"]["created"]) == ("PUSH", "COMPLETED", 3)
    served = json.loads(run(url, key, "scan", fn["resourceId"], "--target",
                            f"zip:{write_function_zip(root / 'cli.zip')}"))
    assert (served["kind"], served["stats"]["created"]) == ("TARGET", 3)

    doc = json.loads(run(url, key, "findings", "list", "--filter", "resourceType=FUNCTION", "--json"))
    assert len(doc["findings"]) == 3
    text = run(url, key, "findings", "list", "--filter", "packageName=jinja2", "--sort", "VULNERABILITY_ID",
               "--order", "ASC")
    assert [line.split()[-3] for line in text.splitlines()] == ["CVE-2019-10906", "CVE-2020-28493"]

    rule = json.loads(run(url, key, "suppressions", "create", "no-trac", "--filter", "packageName=trac",
                          "--reason", "not deployed"))
    assert rule["findingsMoved"]["suppressed"] == 1
    assert "SUPPRESSED" in run(url, key, "findings", "list", "--filter", "findingStatus=SUPPRESSED")
    assert json.loads(run(url, key, "suppressions", "delete", rule["filterId"]))["findingsMoved"] == {
        "suppressed": 0, "unsuppressed": 1}

    coverage = run(url, key, "coverage")
    assert coverage.count("SUCCESSFUL") == 2

    bad = CliRunner().invoke(app, ["remote", "--server", url, "--api-key", key, "findings", "list",
                                   "--filter", "colour=red"])
    assert bad.exit_code == 1 and "colour" in bad.output
    down = CliRunner().invoke(app, ["remote", "--server", "http://127.0.0.1:9", "--api-key", key, "coverage"])
    assert down.exit_code == 1 and "cannot reach" in down.output


def test_upload_inventory_registers_the_resource_once(live: tuple[str, str, Path]) -> None:
    from vulnhound.exports.inventory_json import to_wire
    from vulnhound.inventory.build import build_inventory
    from vulnhound.sources.resolve import open_source

    url, key, root = live
    with open_source(f"dir:{write_rootfs(root / 'agent')}") as src:
        doc = to_wire(build_inventory(src))
    first = upload_inventory(url, key, doc, "HOST", "agent-1")
    second = upload_inventory(url, key, doc, "HOST", "agent-1")
    assert first["resourceId"] == second["resourceId"]
    assert (second["stats"]["created"], second["stats"]["updated"]) == (0, 3)
    with pytest.raises(RemoteError, match="HTTP 401"):
        upload_inventory(url, "vh_bad_key", doc, "HOST", "agent-1")


def test_upload_finds_its_resource_by_name_beyond_one_page(live: tuple[str, str, Path]) -> None:
    """The lookup is by name on the server, not within the first page; an image is matched by digest too."""
    import httpx

    from vulnhound.exports.inventory_json import to_wire
    from vulnhound.inventory.build import build_inventory
    from vulnhound.sources.resolve import open_source

    url, key, root = live
    with open_source(f"dir:{write_rootfs(root / 'paged')}") as src:
        doc = to_wire(build_inventory(src))
    headers = {"Authorization": f"Bearer {key}"}
    for i in range(3):  # more resources than the page the server answers first below
        httpx.post(f"{url}/v1/resources", json={"type": "HOST", "name": f"filler-{i}"}, headers=headers,
                   timeout=30).raise_for_status()
    page = httpx.get(f"{url}/v1/resources", params={"maxResults": 1}, headers=headers, timeout=30).json()
    assert len(page["resources"]) == 1 and page["nextToken"]
    first = upload_inventory(url, key, doc, "HOST", "zz-last-host")
    assert upload_inventory(url, key, doc, "HOST", "zz-last-host")["resourceId"] == first["resourceId"]
    named = httpx.get(f"{url}/v1/resources", params={"name": "zz-last-host"}, headers=headers, timeout=30).json()
    assert [r["resourceId"] for r in named["resources"]] == [first["resourceId"]]
    a = upload_inventory(url, key, doc, "CONTAINER_IMAGE", "app", {"imageDigest": "sha256:" + "a" * 64})
    b = upload_inventory(url, key, doc, "CONTAINER_IMAGE", "app", {"imageDigest": "sha256:" + "b" * 64})
    again = upload_inventory(url, key, doc, "CONTAINER_IMAGE", "app", {"imageDigest": "sha256:" + "a" * 64})
    assert a["resourceId"] != b["resourceId"] and again["resourceId"] == a["resourceId"]


def test_push_scan_registers_the_target_as_a_resource(live: tuple[str, str, Path],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from vulnhound.cli.remote import Client, push_scan
    from vulnhound.sources.resolve import SourceOptions

    url, key, root = live
    push_scan(url, key, f"zip:{write_function_zip(root / 'pushed-fn.zip')}", SourceOptions())
    result = json.loads(capsys.readouterr().out)
    assert (result["status"], result["stats"]["created"]) == ("COMPLETED", 3)
    push_scan(url, key, f"dir:{write_rootfs(root / 'pushed-host')}", SourceOptions())
    assert json.loads(capsys.readouterr().out)["stats"]["created"] == 3
    listed = Client(url, key).call("GET", "/v1/resources")["resources"]
    assert sorted((r["type"], r["name"]) for r in listed) == [("FUNCTION", "pushed-fn"), ("HOST", "pushed-host")]


def test_scan_command_uploads_with_server(live: tuple[str, str, Path]) -> None:
    url, key, root = live
    target = f"zip:{write_function_zip(root / 'via-scan.zip')}"
    result = CliRunner().invoke(app, ["scan", "--server", url, "--api-key", key, target])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["stats"]["created"] == 3
    missing = CliRunner().invoke(app, ["scan", "--server", url, "--api-key", key, f"zip:{root / 'nope.zip'}"])
    assert missing.exit_code == 2
