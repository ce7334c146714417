"""End to end on real advisories: scan a Debian rootfs, a function zip and a pushed image inventory; upgrade,
downgrade and remove packages; the findings close with the right reason, reopen under the same id, and the
history and exposure endpoints tell the story."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path
from typing import Any

from conftest import FIXED, VULNERABLE, Api, IndexHolder, write_function_zip, write_rootfs

from vulnhound.advisories.model import Advisory
from vulnhound.exports.inventory_json import to_wire
from vulnhound.inventory.build import build_inventory
from vulnhound.matching.index import MemoryIndex
from vulnhound.sources.resolve import open_source


def eq(field: str, value: str) -> dict[str, Any]:
    return {field: [{"comparison": "EQUALS", "value": value}]}


def findings(api: Api, criteria: dict[str, Any] | None = None, **kw: Any) -> list[dict[str, Any]]:
    out, token = [], None
    while True:
        body = {"filterCriteria": criteria or {}, "maxResults": 100, **kw}
        if token:
            body["nextToken"] = token
        page = api.ok("POST", "/v1/findings/list", json=body)
        out += page["findings"]
        token = page["nextToken"]
        if not token:
            return out


def scan(api: Api, rid: str, target: str) -> dict[str, Any]:
    result = api.ok("POST", "/v1/scans", 201, json={"resourceId": rid, "target": target})
    assert result["status"] == "COMPLETED", result
    return result


def host(api: Api, root: Path, name: str) -> tuple[str, Path]:
    rid = api.ok("POST", "/v1/resources", 201, json={"type": "HOST", "name": name, "tags": {"env": "prod"}})
    return rid["resourceId"], write_rootfs(root / name)


def test_scan_host_function_and_pushed_image(service: Any, new_account: Any) -> None:
    _, _, root = service
    api = new_account()
    hid, rootfs = host(api, root, "web-1")
    stats = scan(api, hid, f"dir:{rootfs}")["stats"]
    assert (stats["packages"], stats["created"]) == (3, 3)
    fid = api.ok("POST", "/v1/resources", 201, json={"type": "FUNCTION", "name": "fn"})["resourceId"]
    scan(api, fid, f"zip:{write_function_zip(root / 'fn-a.zip')}")
    with open_source(f"dir:{rootfs}") as src:
        doc = to_wire(build_inventory(src))
    iid = api.ok("POST", "/v1/resources", 201, json={
        "type": "CONTAINER_IMAGE", "name": "registry.local/web",
        "details": {"imageDigest": "sha256:" + "ab" * 32, "imageTags": ["1.0"]}})["resourceId"]
    pushed = api.ok("POST", f"/v1/resources/{iid}/inventory", 201, json=doc)
    assert pushed["kind"] == "PUSH" and pushed["stats"]["created"] == 3

    every = findings(api)
    assert len(every) == 9
    by_resource = {r: sorted(f["packageVulnerabilityDetails"]["vulnerabilityId"] for f in every
                             if f["resources"][0]["id"] == r) for r in (hid, fid, iid)}
    assert by_resource[hid] == ["CVE-2019-10906", "CVE-2020-28493", "DSA-5474-1"] == by_resource[iid]
    assert by_resource[fid] == ["CVE-2005-4644", "CVE-2018-18074", "CVE-2023-32681"]
    assert {f["resources"][0]["type"] for f in every} == {"HOST", "FUNCTION", "CONTAINER_IMAGE"}

    assert len(findings(api, eq("resourceType", "FUNCTION"))) == 3
    assert len(findings(api, {"vulnerabilityId": [{"comparison": "PREFIX", "value": "CVE-20"}]})) == 7
    assert len(findings(api, {"vulnerabilityId": [{"comparison": "NOT_EQUALS", "value": "DSA-5474-1"}]})) == 7
    assert len(findings(api, {"vulnerablePackages": [{"name": {"comparison": "EQUALS", "value": "jinja2"}}]})) == 4
    pkg = {"vulnerablePackages": [{"name": {"comparison": "EQUALS", "value": "requests"},
                                   "version": {"comparison": "EQUALS", "value": "2.19.0"}}]}
    assert len(findings(api, pkg)) == 2
    assert len(findings(api, {**eq("resourceType", "HOST"), **eq("fixAvailable", "YES")})) == 3
    assert len(findings(api, {"resourceTags": [{"key": "env", "value": "prod"}]})) == 3
    assert len(findings(api, {"resourceTags": [{"key": "env", "value": "dev"}]})) == 0
    assert len(findings(api, eq("exploitAvailable", "NO"))) == 9
    assert len(findings(api, {"riskScore": [{"lowerInclusive": 0, "upperInclusive": 10}]})) == 9
    assert len(findings(api, {"epssScore": [{"lowerInclusive": 0.5}]})) == 0
    first = min(f["firstObservedAt"] for f in every)
    assert len(findings(api, {"firstObservedAt": [{"startInclusive": first}]})) == 9
    assert len(findings(api, {"lastObservedAt": [{"endInclusive": "2000-01-01"}]})) == 0

    # the same inventory twice is stored once; the rescan refreshes, it does not duplicate
    again = api.ok("POST", f"/v1/resources/{iid}/inventory", 201, json=doc)
    assert again["inventorySha256"] == pushed["inventorySha256"]
    assert (again["stats"]["created"], again["stats"]["updated"]) == (0, 3)
    assert len(findings(api)) == 9

    cyclonedx = api.ok("GET", f"/v1/resources/{hid}/sbom?format=CYCLONEDX")
    assert {c["name"] for c in cyclonedx["components"]} >= {"intel-microcode", "iucode-tool", "jinja2"}
    spdx = api.ok("GET", f"/v1/resources/{fid}/sbom?format=SPDX")
    assert {p["name"] for p in spdx["packages"]} >= {"requests", "trac"}


def _microcode(api: Api, rid: str) -> dict[str, Any]:
    [f] = findings(api, {**eq("resourceId", rid), **eq("vulnerabilityId", "DSA-5474-1")})
    return f


def test_upgrade_closes_downgrade_reopens_same_id(service: Any, new_account: Any) -> None:
    _, _, root = service
    api = new_account()
    rid, rootfs = host(api, root, "db-1")
    scan(api, rid, f"dir:{rootfs}")
    before = _microcode(api, rid)
    assert before["status"] == "ACTIVE"

    write_rootfs(rootfs, FIXED)  # dpkg rewrote the status stanza with the fixed version
    stats = scan(api, rid, f"dir:{rootfs}")["stats"]
    assert (stats["closed"], stats["updated"]) == (1, 2)
    closed = api.ok("GET", f"/v1/findings/{before['findingId']}")
    assert (closed["status"], closed["closedReason"]) == ("CLOSED", "PACKAGE_UPGRADED")
    assert closed["closedAt"] is not None
    assert len(findings(api, eq("findingStatus", "ACTIVE"))) == 2

    write_rootfs(rootfs, VULNERABLE)
    assert scan(api, rid, f"dir:{rootfs}")["stats"]["reopened"] == 1
    after = _microcode(api, rid)
    assert after["findingId"] == before["findingId"]
    assert (after["status"], after["closedReason"], after["firstObservedAt"]) == ("ACTIVE", None,
                                                                                 before["firstObservedAt"])
    steps = api.ok("GET", f"/v1/findings/{before['findingId']}/history")["history"]
    assert [(h["fromStatus"], h["toStatus"], h["reason"]) for h in steps] == [
        (None, "ACTIVE", "CREATED"), ("ACTIVE", "CLOSED", "PACKAGE_UPGRADED"), ("CLOSED", "ACTIVE", "REOPENED")]

    created, closed_at, reopened = (h["at"] for h in steps)
    def exposed(at: str) -> bool:
        q = {"resourceId": rid, "vulnerabilityId": "DSA-5474-1", "at": at}
        return bool(api.ok("GET", "/v1/exposure", params=q)["exposed"])
    assert [exposed(t) for t in ("2000-01-01T00:00:00Z", created, closed_at, reopened)] == [False, True, False, True]


def test_removed_package_and_deleted_resource(service: Any, new_account: Any) -> None:
    _, _, root = service
    api = new_account()
    rid, rootfs = host(api, root, "app-1")
    scan(api, rid, f"dir:{rootfs}")
    shutil.rmtree(rootfs / "usr/local/lib/python3.11/dist-packages/Jinja2-2.10.dist-info")
    scan(api, rid, f"dir:{rootfs}")
    jinja = findings(api, {"vulnerablePackages": [{"name": {"comparison": "EQUALS", "value": "jinja2"}}]})
    assert {(f["status"], f["closedReason"]) for f in jinja} == {("CLOSED", "PACKAGE_REMOVED")} and len(jinja) == 2

    r = api("DELETE", f"/v1/resources/{rid}")
    assert r.status_code == 204
    left = findings(api, eq("resourceId", rid))
    assert sorted((f["status"], f["closedReason"]) for f in left) == [
        ("CLOSED", "PACKAGE_REMOVED"), ("CLOSED", "PACKAGE_REMOVED"), ("CLOSED", "RESOURCE_DELETED")]
    assert api("GET", f"/v1/resources/{rid}").json()["deletedAt"] is not None
    assert api("POST", "/v1/scans", json={"resourceId": rid, "target": f"dir:{rootfs}"}).status_code == 404


def test_withdrawn_advisory_closes_with_its_reason(service: Any, new_account: Any, holder: IndexHolder,
                                                   advisories: list[Advisory]) -> None:
    _, _, root = service
    api = new_account()
    rid, rootfs = host(api, root, "kb-1")
    scan(api, rid, f"dir:{rootfs}")
    original = holder.index
    withdrawn = [dataclasses.replace(a, withdrawn=a.modified) if a.id == "PYSEC-2019-217" else a for a in advisories]
    holder.index = MemoryIndex(withdrawn)
    try:
        scan(api, rid, f"dir:{rootfs}")
    finally:
        holder.index = original
    [f] = findings(api, eq("vulnerabilityId", "CVE-2019-10906"))
    assert (f["status"], f["closedReason"]) == ("CLOSED", "ADVISORY_WITHDRAWN")
    assert len(findings(api, eq("findingStatus", "ACTIVE"))) == 2


def test_failed_scan_shows_in_coverage(service: Any, new_account: Any) -> None:
    _, _, root = service
    api = new_account()
    rid = api.ok("POST", "/v1/resources", 201, json={"type": "HOST", "name": "gone"})["resourceId"]
    pending = api.ok("GET", "/v1/coverage")["coveredResources"]
    assert [(c["scanStatus"]["statusCode"], c["scanStatus"]["reason"]) for c in pending] == [
        ("PENDING", "PENDING_INITIAL_SCAN")]
    result = api.ok("POST", "/v1/scans", 201, json={"resourceId": rid, "target": f"zip:{root / 'missing.zip'}"})
    assert result["status"] == "FAILED" and result["reason"]
    [cov] = api.ok("GET", "/v1/coverage")["coveredResources"]
    assert (cov["scanStatus"]["statusCode"], cov["scanStatus"]["reason"]) == ("FAILED", "SCAN_FAILED")
    hid, rootfs = host(api, root, "ok-1")
    scan(api, hid, f"dir:{rootfs}")
    stats = api.ok("GET", "/v1/coverage/statistics")
    assert stats["totalCounts"] == 2
    assert {g["groupKey"]: g["count"] for g in stats["countsByGroup"]} == {"ACTIVE": 1, "FAILED": 1}
    assert api.ok("GET", "/v1/scans", params={"resourceId": rid})["scans"][0]["status"] == "FAILED"
