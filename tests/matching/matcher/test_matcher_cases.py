"""The matcher on real records, one directory per case (see cases/README.md): findings, unmatched, warnings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from matcher_cases import CASES, run, summary

CASE_DIRS = sorted(p for p in CASES.iterdir() if (p / "case.yaml").is_file())


@pytest.mark.parametrize("case", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_case(case: Path) -> None:
    result, inv = run(case)
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    assert summary(result, inv) == expected


def test_every_finding_explains_itself() -> None:
    result, _ = run(CASES / "pypi-aliases")
    plone = next(f for f in result.findings if f.package and f.package.vulnerable_packages[0].name == "Plone")
    assert plone.package is not None
    # Both records name plone; the finding keeps each one's rule and the versions compared.
    assert {p.advisory_id for p in plone.package.provenance} == {"PYSEC-2020-248", "GHSA-2c8c-84w2-j38j"}
    for prov in plone.package.provenance:
        assert prov.ecosystem == "PyPI" and prov.installed_version == "5.2.2"
        assert prov.rule.startswith("5.2.2 is in [introduced 0, fixed 5.2.3)")
    assert plone.remediation == "pip install 'Plone>=5.2.3'"


def test_os_owned_package_is_counted_not_matched() -> None:
    result, _ = run(CASES / "os-owned")
    assert result.stats["osOwnedSkipped"] == 1
    (f,) = result.findings
    assert f.package is not None
    assert f.package.vulnerable_packages[0].file_path == "opt/venv/lib/python3.11/site-packages/" \
        "urllib3-1.26.12.dist-info"


def test_eol_finding_is_a_critical_configuration_finding() -> None:
    result, _ = run(CASES / "debian-eol-nodsa")
    eol = [f for f in result.findings if f.details.get("checkId") == "IN-DISCONTINUED-001"]
    assert len(eol) == 1 and eol[0].type.value == "CONFIGURATION" and eol[0].severity.value == "CRITICAL"
    assert eol[0].details["endOfLife"] == "2026-08-31"


def test_debian_vendor_status_is_kept_with_reason() -> None:
    result, _ = run(CASES / "debian-eol-nodsa")
    putty = next(f for f in result.findings if f.package and f.package.vulnerability_id == "CVE-2021-36367")
    assert putty.package is not None
    assert putty.package.provenance[0].vendor_status == "no-dsa"
    assert "Minor issue" in (putty.package.provenance[0].vendor_status_reason or "")
    assert putty.fix_available.value == "NO" and "No fixed version" in putty.remediation
