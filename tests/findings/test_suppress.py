"""Suppression rules: ignore-file entries (alias, package name or PURL, expiry) and VEX documents."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from vulnhound.findings import suppress
from vulnhound.findings.model import (
    Finding,
    FindingType,
    FixAvailable,
    PackageVulnerabilityDetails,
    SeverityLevel,
    VulnerablePackage,
)


def finding(vid: str = "CVE-2023-43804", aliases: tuple[str, ...] = ("PYSEC-2023-192",), name: str = "urllib3",
            purl: str = "pkg:pypi/urllib3@1.24.1") -> Finding:
    vp = VulnerablePackage(name, "1.24.1", None, None, None, "PYTHONPKG", purl, None, None, "1.26.17", None, "p1")
    details = PackageVulnerabilityDetails(vid, "osv", aliases, (), None, (), (), None, [], [vp], [], "affected")
    return Finding("f1", FindingType.PACKAGE_VULNERABILITY, f"{vid} - {name}", "", SeverityLevel.HIGH, "nvd", [],
                   8.1, FixAvailable.YES, False, None, None, "", details)


def rule(vid: str, package: str | None = None, expires: dt.date | None = None) -> suppress.Rule:
    return suppress.Rule(vid, package, "code_not_reachable", "why", expires, "test:1")


def test_rule_matching() -> None:
    today = dt.date(2026, 1, 1)
    assert rule("PYSEC-2023-192").applies(finding(), today)  # an alias
    assert rule("CVE-2023-43804", "URLLib3").applies(finding(), today)
    assert rule("CVE-2023-43804", "pkg:pypi/urllib3").applies(finding(), today)  # PURL without version
    assert not rule("CVE-2023-43804", "pkg:pypi/requests").applies(finding(), today)
    assert not rule("CVE-2023-43804", expires=dt.date(2025, 12, 31)).applies(finding(), today)
    kept, gone = suppress.apply([finding()], [rule("CVE-2023-43804")], today)
    assert kept == [] and gone[0].status == "SUPPRESSED" and "code_not_reachable: why (test:1)" in (
        gone[0].suppressed_by or "")


def test_empty_ignore_file(tmp_path: Path) -> None:
    (tmp_path / "i.yaml").write_text("")
    assert suppress.load_ignore_file(tmp_path / "i.yaml") == []


def test_ignore_file_without_list(tmp_path: Path) -> None:
    (tmp_path / "i.yaml").write_text("ignore:\n  id: CVE-1\n")
    with pytest.raises(suppress.SuppressionError, match=r"i.yaml:2: 'ignore' must be a list"):
        suppress.load_ignore_file(tmp_path / "i.yaml")


def test_vex_documents(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(suppress.SuppressionError, match="not a readable JSON VEX"):
        suppress.load_vex(bad)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"hello": 1}))
    with pytest.raises(suppress.SuppressionError, match="neither an OpenVEX document nor a CycloneDX VEX"):
        suppress.load_vex(other)
