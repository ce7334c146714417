"""``vulnhound scan`` / ``explain`` end to end on a small real knowledge base: formats, filters, gating, suppression,
and clear errors for a missing, empty, stale or foreign knowledge base."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
from typer.testing import CliRunner

from vulnhound.advisories.feeds.osv import iter_files
from vulnhound.advisories.store import import_items, open_engine
from vulnhound.cli.main import app

CASES = Path(__file__).resolve().parent / "scan_cases"
VENV = CASES / "venv"
runner = CliRunner()


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("kb") / "kb.db"
    files = sorted((CASES / "records").iterdir())
    engine = open_engine(str(path))
    import_items(engine, "osv-test", list(iter_files(files, CASES / "records", "osv-test")), description="test")
    engine.dispose()
    return str(path)


def scan(kb: str, *args: str) -> Any:
    return runner.invoke(app, ["scan", f"dir:{VENV}", "--db", kb, "-q", *args])


def scan_json(kb: str, *args: str) -> dict[str, Any]:
    res = scan(kb, "-f", "json", *args)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert isinstance(doc, dict)
    return doc


def by_id(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["packageVulnerabilityDetails"]["vulnerabilityId"]: f for f in doc["findings"]}


def test_json_report(kb: str) -> None:
    doc = scan_json(kb)
    assert doc["schemaVersion"] == "1"
    found = by_id(doc)
    assert set(found) == {"CVE-2023-43804", "CVE-2023-45803", "CVE-2020-28736"}
    f = found["CVE-2023-43804"]
    d = f["packageVulnerabilityDetails"]
    assert d["aliases"] == ["GHSA-v845-jxx5-vc9f", "PYSEC-2023-192"]
    assert f["severity"] == "HIGH" and f["fixAvailable"] == "YES"
    assert d["vulnerablePackages"][0]["fixedInVersion"] == "1.26.17"
    assert f["remediation"]["recommendation"]["text"] == "pip install 'urllib3>=1.26.17'"
    assert d["provenance"][0]["updateOperation"] == 1 and d["provenance"][0]["advisoryId"] == "PYSEC-2023-192"
    assert d["vendorCreatedAt"].startswith("2023-10-04")
    # the GHSA record rates CVE-2020-28736 (vendor-first order: GHSA before NVD and others)
    plone = found["CVE-2020-28736"]
    assert plone["severitySource"] == "osv:GHSA" or "ghsa" in plone["severitySource"].lower(), plone["severitySource"]
    assert doc["summary"]["findings"] == 3 and doc["unmatched"] == []


def test_table_and_output_file(kb: str, tmp_path: Path) -> None:
    out = tmp_path / "report.txt"
    res = scan(kb, "--output", str(out))
    assert res.exit_code == 0 and res.stdout == ""
    text = out.read_text()
    assert "CVE-2023-43804" in text and "3 findings in 2 packages (2 scanned)" in text


def test_sarif(kb: str) -> None:
    res = scan(kb, "-f", "sarif")
    doc = json.loads(res.stdout)
    assert doc["version"] == "2.1.0"
    run = doc["runs"][0]
    rule_ids = {r["id"] for r in run["tool"]["driver"]["rules"]}
    assert {r["ruleId"] for r in run["results"]} == rule_ids == {"CVE-2023-43804", "CVE-2023-45803", "CVE-2020-28736"}
    assert all(r["level"] in ("error", "warning", "note") for r in run["results"])
    sarif = pytest.importorskip("sarif_pydantic")
    sarif.Sarif.model_validate(doc)


def test_cyclonedx_vdr(kb: str) -> None:
    res = scan(kb, "-f", "cyclonedx")
    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(res.stdout) is None
    doc = json.loads(res.stdout)
    vulns = {v["id"]: v for v in doc["vulnerabilities"]}
    assert {r["id"] for r in vulns["CVE-2023-43804"]["references"]} == {"GHSA-v845-jxx5-vc9f", "PYSEC-2023-192"}
    refs = {c["bom-ref"] for c in doc["components"]}
    assert all(a["ref"] in refs for v in vulns.values() for a in v["affects"])


def test_openvex_and_csv(kb: str) -> None:
    vex = json.loads(scan(kb, "-f", "openvex").stdout)
    assert vex["@context"].startswith("https://openvex.dev/ns/")
    assert {s["status"] for s in vex["statements"]} == {"affected"}
    assert {p["@id"] for s in vex["statements"] for p in s["products"]} == {"pkg:pypi/urllib3@1.24.1",
                                                                           "pkg:pypi/plone@5.2.2"}
    rows = list(csv.DictReader(io.StringIO(scan(kb, "-f", "csv").stdout)))
    assert len(rows) == 3 and {r["fixAvailable"] for r in rows} == {"YES"}


def test_filters(kb: str) -> None:
    assert set(by_id(scan_json(kb, "--severity", "MEDIUM"))) == {"CVE-2023-45803"}
    assert len(scan_json(kb, "--ignore-unfixed")["findings"]) == 3
    assert scan_json(kb, "--vendor-status", "no-dsa")["findings"] == []
    res = scan(kb, "--severity", "SEVERE")
    assert res.exit_code == 2 and "unknown SEVERE" in res.output


def test_fail_on_and_exit_code(kb: str) -> None:
    assert scan(kb, "--fail-on", "HIGH").exit_code == 1
    assert scan(kb, "--fail-on", "high", "--exit-code", "7").exit_code == 7
    assert scan(kb, "--fail-on", "CRITICAL").exit_code == 0


def test_ignore_file_and_show_suppressed(kb: str) -> None:
    doc = scan_json(kb, "--ignore-file", str(CASES / "ignore" / "valid.yaml"))
    assert "CVE-2020-28736" not in by_id(doc)
    assert "CVE-2023-45803" in by_id(doc)  # its entry expired in 2020
    (sup,) = doc["suppressed"]
    assert sup["status"] == "SUPPRESSED" and "code_not_reachable" in sup["suppressedBy"]
    assert "valid.yaml:2" in sup["suppressedBy"]
    table = scan(kb, "--ignore-file", str(CASES / "ignore" / "valid.yaml"), "--show-suppressed").stdout
    assert "Suppressed:" in table and "the event add-on is not installed" in table


def test_ignore_file_errors_name_line_and_reason(kb: str) -> None:
    res = scan(kb, "--ignore-file", str(CASES / "ignore" / "errors.yaml"))
    assert res.exit_code == 2
    msg = res.output
    assert "errors.yaml:2: 'justification' must be one of" in msg
    assert "errors.yaml:5: 'id' (a vulnerability id or alias) is required" in msg
    assert "errors.yaml:7: 'expires' must be a date YYYY-MM-DD" in msg
    res = scan(kb, "--ignore-file", str(CASES / "ignore" / "not-yaml.yaml"))
    assert res.exit_code == 2 and "not-yaml.yaml:" in res.output and "not valid YAML" in res.output


def test_vex_inputs(kb: str) -> None:
    doc = scan_json(kb, "--vex", str(CASES / "vex" / "openvex.json"))
    assert set(by_id(doc)) == {"CVE-2023-45803", "CVE-2020-28736"}
    assert "redirects are disabled" in doc["suppressed"][0]["suppressedBy"]
    doc = scan_json(kb, "--vex", str(CASES / "vex" / "cyclonedx-vex.json"))
    assert "CVE-2023-45803" not in by_id(doc)


def test_sbom_target(kb: str, tmp_path: Path) -> None:
    bom = tmp_path / "bom.json"
    res = runner.invoke(app, ["sbom", f"dir:{VENV}", "-f", "cyclonedx", "-o", str(bom), "-q"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["scan", f"sbom:{bom}", "--db", kb, "-q", "-f", "json"])
    assert res.exit_code == 0, res.output
    assert set(by_id(json.loads(res.stdout))) == {"CVE-2023-43804", "CVE-2023-45803", "CVE-2020-28736"}


def test_explain(kb: str, tmp_path: Path) -> None:
    report = tmp_path / "r.json"
    assert scan(kb, "-f", "json", "-o", str(report)).exit_code == 0
    res = runner.invoke(app, ["explain", str(report), "PYSEC-2023-192"])
    assert res.exit_code == 0
    assert "Matched because record PYSEC-2023-192 (source osv-test, knowledge-base update #1) lists urllib3 in " \
           "PyPI, and 1.24.1 is in [introduced 0, fixed 1.26.17)" in res.stdout
    assert runner.invoke(app, ["explain", str(report), "CVE-1999-0001"]).exit_code == 1


def test_missing_knowledge_base(tmp_path: Path) -> None:
    res = scan(str(tmp_path / "nope.db"))
    assert res.exit_code == 3 and "no knowledge base at" in res.output and "vulnhound db update" in res.output
    assert not (tmp_path / "nope.db").exists()


def test_empty_knowledge_base(tmp_path: Path) -> None:
    open_engine(str(tmp_path / "empty.db")).dispose()
    res = scan(str(tmp_path / "empty.db"))
    assert res.exit_code == 3 and "is empty" in res.output


def test_foreign_and_unknown_schema(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as conn:
        conn.execute("CREATE TABLE advisories (id TEXT, data TEXT)")
    res = scan(str(old))
    assert res.exit_code == 3 and "no vulnhound schema version" in res.output
    newer = tmp_path / "newer.db"
    open_engine(str(newer)).dispose()
    with sqlite3.connect(newer) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'ffff9999'")
    res = scan(str(newer))
    assert res.exit_code == 3 and "schema revision ffff9999, unknown to this vulnhound" in res.output


def test_stale_knowledge_base_warns(kb: str, tmp_path: Path) -> None:
    stale = tmp_path / "stale.db"
    stale.write_bytes(Path(kb).read_bytes())
    with sqlite3.connect(stale) as conn:
        conn.execute("UPDATE sources SET last_update = '2020-01-01T00:00:00+00:00'")
    res = runner.invoke(app, ["scan", f"dir:{VENV}", "--db", str(stale), "-f", "json"])
    assert res.exit_code == 0
    assert "knowledge base sources older than 7 days: osv-test" in res.stderr


@pytest.mark.parametrize("fmt", ["table", "json", "sarif", "cyclonedx", "openvex", "csv"])
def test_end_of_life_platform_in_every_format(kb: str, fmt: str) -> None:
    res = runner.invoke(app, ["scan", f"dir:{CASES / 'debian10-rootfs'}", "--db", kb, "-f", fmt, "--fail-on", "HIGH"])
    assert res.exit_code == 1, res.output  # IN-DISCONTINUED-001 is CRITICAL: the gate fails
    assert "reached end of life on 2024-06-30" in res.stderr
    assert "knowledge base has no advisories for Debian:10" in res.stderr
    if fmt in ("table", "json", "sarif", "csv"):
        assert "IN-DISCONTINUED-001" in res.stdout
    if fmt == "json":
        (f,) = json.loads(res.stdout)["findings"]
        assert f["type"] == "CONFIGURATION" and f["severity"] == "CRITICAL" and f["details"]["version"] == "10"
