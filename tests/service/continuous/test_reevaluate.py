"""Re-evaluation end to end on real PyPA records: scan six resources, import a newer snapshot that adds, modifies
and withdraws advisories, then a KEV catalog; only the resources with touched keys are re-evaluated, findings change
with the right causes and reasons, the outbox holds exactly the expected events, and ``full`` then changes nothing.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from reeval_kit import (
    FLEET,
    Mirror,
    events_after,
    finding_rows,
    first_snapshot,
    fresh_store,
    history_after,
    last_seq,
    newer_snapshot,
    open_kb_at,
    push_and_scan,
    root_actor,
)

from vulnhound.service.continuous import reevaluate
from vulnhound.service.continuous.reevaluate import full, incremental
from vulnhound.service.db.tables import resource_package_keys

BACKENDS = ["sqlite", pytest.param("postgresql", marks=[pytest.mark.services])]
INVENTORIES = {**FLEET, "plain-1": [("attrs", "20.1.0")]}


def by_vuln(engine: sa.Engine, rid: str) -> dict[str, dict[str, Any]]:
    return {r["vulnerability_id"]: r for r in finding_rows(engine, rid)}


@pytest.mark.parametrize("backend", BACKENDS)
def test_newer_snapshot_reevaluates_only_touched_resources(backend: str, tmp_path: Path, vulndata: Path) -> None:
    mirror = Mirror(tmp_path / "mirror", vulndata)
    first_snapshot(mirror)
    with open_kb_at(tmp_path) as (kb, index), fresh_store(backend, tmp_path) as engine:
        assert len(mirror.update(kb)) == 1
        actor = root_actor(engine)
        rids = {name: push_and_scan(engine, actor, index, name, pkgs) for name, pkgs in INVENTORIES.items()}
        # the scans indexed their keys and emitted their events; the cursor starts at the scans' operation
        with engine.connect() as conn:
            keys = {(e, n) for e, n in conn.execute(sa.select(resource_package_keys.c.ecosystem,
                                                              resource_package_keys.c.name))}
        assert keys == {("PyPI", "jinja2"), ("PyPI", "requests"), ("PyPI", "flask"), ("PyPI", "urllib3"),
                        ("PyPI", "pyyaml"), ("PyPI", "attrs")}
        scan_events = Counter(e["type"] for e in events_after(engine, 0))
        assert scan_events == {"vulnhound.scan.completed": 6, "vulnhound.coverage.changed": 6,
                               "vulnhound.finding.created": 8}
        first = incremental(engine, index, kb)
        assert first.operations == [1] and first.resources == 4  # jinja2, requests, urllib3 and pyyaml resources
        assert first.changed == 0
        before = {name: by_vuln(engine, rid) for name, rid in rids.items()}
        assert set(before["web-1"]) == {"CVE-2019-10906", "CVE-2020-28493", "CVE-2018-18074", "CVE-2023-32681"}
        assert before["flask-1"] == {} and before["plain-1"] == {}
        hseq, eseq = last_seq(engine)

        # the newer snapshot: one record added, two modified (a range, a severity), one withdrawn
        newer_snapshot(mirror)
        [op] = mirror.update(kb)
        stored = kb.operation(op)
        assert stored is not None and stored.added == ["PYSEC-2018-66"]
        assert sorted(stored.modified) == ["PYSEC-2018-32", "PYSEC-2023-74"] and stored.withdrawn == ["PYSEC-2019-217"]

        result = incremental(engine, index, kb)
        assert result.operations == [op]
        assert result.selected["byKey"] == 4 and result.resources == 4  # not yaml-1, not plain-1
        assert result.changes == {"created": 1, "changed": 2, "closed": 2, "reopened": 0}
        assert result.causes == {"ADVISORY_ADDED": 1, "ADVISORY_MODIFIED": 3, "ADVISORY_WITHDRAWN": 1}

        after = {name: by_vuln(engine, rid) for name, rid in rids.items()}
        [created] = after["flask-1"].values()
        assert (created["vulnerability_id"], created["status"]) == ("CVE-2018-1000656", "ACTIVE")
        gone = after["u3-1"]["CVE-2018-20060"]
        assert (gone["status"], gone["closed_reason"]) == ("CLOSED", "NO_LONGER_AFFECTED")
        withdrawn = after["web-1"]["CVE-2019-10906"]
        assert (withdrawn["status"], withdrawn["closed_reason"]) == ("CLOSED", "ADVISORY_WITHDRAWN")
        for name in ("web-1", "api-1"):
            sev = after[name]["CVE-2023-32681"]
            assert (sev["status"], sev["severity"]) == ("ACTIVE", "CRITICAL")
            assert before[name]["CVE-2023-32681"]["severity"] != "CRITICAL"
            assert sev["last_observed_at"] == before[name]["CVE-2023-32681"]["last_observed_at"]  # not observed
        assert after["yaml-1"] == before["yaml-1"]

        hist = history_after(engine, hseq)
        got = sorted((h["reason"], h["cause"], h["kb_operation"], h["to_status"]) for h in hist)
        assert got == sorted([
            ("CREATED", "ADVISORY_ADDED", op, "ACTIVE"), ("NO_LONGER_AFFECTED", "ADVISORY_MODIFIED", op, "CLOSED"),
            ("ADVISORY_WITHDRAWN", "ADVISORY_WITHDRAWN", op, "CLOSED"),
            ("UPDATED", "ADVISORY_MODIFIED", op, "ACTIVE"), ("UPDATED", "ADVISORY_MODIFIED", op, "ACTIVE")])
        upd = next(h for h in hist if h["reason"] == "UPDATED")
        assert upd["detail"]["severity"]["new"] == "CRITICAL" and "riskScore" in upd["detail"]

        evs = events_after(engine, eseq)
        subjects = {rid: name for name, rid in rids.items()}
        seen = sorted((e["type"], subjects.get(e["subject"]), e["data"].get("change", {}).get("cause")) for e in evs)
        assert seen == sorted([
            ("vulnhound.finding.created", "flask-1", "ADVISORY_ADDED"),
            ("vulnhound.finding.closed", "u3-1", "ADVISORY_MODIFIED"),
            ("vulnhound.finding.closed", "web-1", "ADVISORY_WITHDRAWN"),
            ("vulnhound.finding.updated", "web-1", "ADVISORY_MODIFIED"),
            ("vulnhound.finding.updated", "api-1", "ADVISORY_MODIFIED"),
            ("vulnhound.knowledgebase.updated", None, None)])
        kbev = next(e for e in evs if e["type"] == "vulnhound.knowledgebase.updated")
        assert kbev["data"] == {"operations": [op], "sources": ["pypa-advisory-database"], "added": 1,
                                "modified": 2, "withdrawn": 1, "resourcesReevaluated": 4}
        closed = next(e for e in evs if e["type"] == "vulnhound.finding.closed" and subjects[e["subject"]] == "web-1")
        assert closed["data"]["status"] == "CLOSED" and closed["data"]["closedReason"] == "ADVISORY_WITHDRAWN"
        assert closed["data"]["change"] == {"cause": "ADVISORY_WITHDRAWN", "reason": "ADVISORY_WITHDRAWN",
                                            "from": "ACTIVE", "to": "CLOSED", "kbOperation": op}

        # the safety net agrees; a second incremental run has nothing to do
        hseq, eseq = last_seq(engine)
        check = full(engine, index)
        assert (check.resources, check.changed) == (6, 0)
        again = incremental(engine, index, kb)
        assert (again.operations, again.resources) == ([], 0)
        assert last_seq(engine) == (hseq, eseq)
        assert {n: by_vuln(engine, rid) for n, rid in rids.items()} == after

        # a KEV catalog naming CVE-2018-18074 (requests): the two requests findings gain exploitAvailable
        mirror.kev(vulndata, ["CVE-2018-18074"])
        [kev_op] = mirror.update(kb)
        kev = incremental(engine, index, kb)
        assert kev.selected == {"byKey": 0, "byGroup": 0, "byScore": 2} and kev.resources == 2
        assert kev.causes == {"KEV_CHANGED": 2}
        for name in ("web-1", "api-1"):
            row = by_vuln(engine, rids[name])["CVE-2018-18074"]
            assert row["exploit_available"] is True and row["detail"]["exploitAvailable"] == "YES"
            assert row["risk_score"] > before[name]["CVE-2018-18074"]["risk_score"]
        kev_hist = history_after(engine, hseq)
        assert {(h["reason"], h["cause"], h["kb_operation"]) for h in kev_hist} == {("UPDATED", "KEV_CHANGED", kev_op)}
        assert full(engine, index).changed == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_deleted_resource_is_not_reevaluated(backend: str, tmp_path: Path, vulndata: Path) -> None:
    from vulnhound.service.domain import resources

    mirror = Mirror(tmp_path / "mirror", vulndata)
    mirror.copy("requests", "PYSEC-2018-28")
    with open_kb_at(tmp_path) as (kb, index), fresh_store(backend, tmp_path) as engine:
        mirror.update(kb)
        actor = root_actor(engine)
        keep = push_and_scan(engine, actor, index, "a", [("requests", "2.19.0")])
        drop = push_and_scan(engine, actor, index, "b", [("requests", "2.19.0")])
        incremental(engine, index, kb)
        with engine.begin() as conn:
            resources.delete(conn, actor, drop)
        mirror.copy("requests", "PYSEC-2023-74")
        mirror.update(kb)
        result = incremental(engine, index, kb)
        assert result.resources == 1 and result.causes == {"ADVISORY_ADDED": 1}
        assert {r["vulnerability_id"] for r in finding_rows(engine, keep)} == {"CVE-2018-18074", "CVE-2023-32681"}
        assert {r["vulnerability_id"] for r in finding_rows(engine, drop)} == {"CVE-2018-18074"}
        with engine.connect() as conn:
            assert reevaluate.cursor(conn) == 2


@pytest.mark.parametrize("backend", BACKENDS)
def test_forked_workers_reach_the_same_end_state(backend: str, tmp_path: Path, vulndata: Path) -> None:
    mirror = Mirror(tmp_path / "mirror", vulndata)
    mirror.copy("requests", "PYSEC-2018-28")
    with open_kb_at(tmp_path) as (kb, index), fresh_store(backend, tmp_path) as engine:
        mirror.update(kb)
        actor = root_actor(engine)
        rids = [push_and_scan(engine, actor, index, f"h-{i}", [("requests", "2.19.0"), ("attrs", "20.1.0")])
                for i in range(6)]
        other = push_and_scan(engine, actor, index, "other", [("attrs", "20.1.0")])
        incremental(engine, index, kb)
        _, eseq = last_seq(engine)
        mirror.copy("requests", "PYSEC-2023-74")
        mirror.update(kb)
        result = incremental(engine, index, kb, workers=2)
        assert result.resources == 6 and result.causes == {"ADVISORY_ADDED": 6}
        for rid in rids:
            assert sorted(r["vulnerability_id"] for r in finding_rows(engine, rid)) == [
                "CVE-2018-18074", "CVE-2023-32681"]
        assert finding_rows(engine, other) == []
        assert Counter(e["type"] for e in events_after(engine, eseq)) == {
            "vulnhound.finding.created": 6, "vulnhound.knowledgebase.updated": 1}
        assert full(engine, index).changed == 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_scan_events_and_coverage_changes(backend: str, tmp_path: Path, vulndata: Path) -> None:
    from reeval_kit import inventory

    from vulnhound.exports.inventory_json import to_wire
    from vulnhound.service.domain import resources, scans

    mirror = Mirror(tmp_path / "mirror", vulndata)
    mirror.copy("requests", "PYSEC-2018-28")
    with open_kb_at(tmp_path) as (kb, index), fresh_store(backend, tmp_path) as engine:
        actor = root_actor(engine)
        doc = to_wire(inventory("h", [("requests", "2.19.0")]))
        with engine.begin() as conn:
            rid = resources.create(conn, actor, "HOST", "h")["resourceId"]
            failing = scans.create_push(conn, actor, rid, doc)
        scans.run_scan(engine, index, failing)  # the knowledge base is still empty: the scan fails
        mirror.update(kb)
        with engine.begin() as conn:
            ok = scans.create_push(conn, actor, rid, doc)
        scans.run_scan(engine, index, ok)
        with engine.begin() as conn:
            again = scans.create_push(conn, actor, rid, doc)
        scans.run_scan(engine, index, again)  # same coverage as before: no coverage event
        got = [(e["type"], e["data"].get("to"), e["data"].get("severityCounts")) for e in events_after(engine, 0)]
        assert [t for t, _, _ in got] == [
            "vulnhound.scan.failed", "vulnhound.coverage.changed", "vulnhound.finding.created",
            "vulnhound.scan.completed", "vulnhound.coverage.changed", "vulnhound.scan.completed"]
        assert got[1][1] == {"statusCode": "FAILED", "reason": "SCAN_FAILED", "message": got[1][1]["message"]}
        assert got[4][1] == {"statusCode": "ACTIVE", "reason": "SUCCESSFUL", "message": None}
        assert got[3][2] == got[5][2] == {"all": 1, "untriaged": 1}  # PyPA records carry no severity
        assert all(e["subject"] == rid for e in events_after(engine, 0))
