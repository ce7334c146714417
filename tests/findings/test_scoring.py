"""Severity selection (vendor first, then GHSA, then NVD) and the documented risk score (docs/scoring.md)."""

from __future__ import annotations

import pytest

from vulnhound.advisories.model import EpssScore, KevEntry, Severity
from vulnhound.findings.model import SeverityLevel
from vulnhound.findings.scoring import band, choose_severity, level_of, risk_score

NVD = Severity("nvd", "CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8, "CRITICAL")
GHSA = Severity("ghsa", "CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:N", 8.1, "HIGH")
DEBIAN = Severity("debian", "VENDOR", None, None, "low")
KEV = KevEntry("CVE-2021-44228", "Apache", "Log4j2", "Log4Shell", "2021-12-10", "2021-12-24", "Known")


@pytest.mark.parametrize(("score", "level"), [(0.0, "INFORMATIONAL"), (0.1, "LOW"), (3.9, "LOW"), (4.0, "MEDIUM"),
                                              (6.9, "MEDIUM"), (7.0, "HIGH"), (8.9, "HIGH"), (9.0, "CRITICAL")])
def test_cvss_bands(score: float, level: str) -> None:
    assert band(score).value == level


def test_vendor_rating_wins_for_os_packages_and_keeps_the_cvss_base() -> None:
    chosen = choose_severity([DEBIAN], [GHSA], [NVD], [])
    assert (chosen.level, chosen.source) == (SeverityLevel.LOW, "debian")
    assert chosen.base_score == 9.8  # the risk score still starts from a CVSS base (NVD's here)


def test_ghsa_before_nvd_then_untriaged() -> None:
    assert choose_severity([], [GHSA], [NVD], []).source == "ghsa"
    assert choose_severity([], [], [NVD], []).level is SeverityLevel.CRITICAL
    assert choose_severity([], [], [], []).level is SeverityLevel.UNTRIAGED
    assert level_of(Severity("debian", "VENDOR", None, None, "not yet assigned")) is None


def test_risk_score_formula() -> None:
    assert risk_score(8.1, SeverityLevel.HIGH, None, None) == 8.1
    # EPSS percentile p moves the score by (p - 0.5) * 2
    assert risk_score(8.1, SeverityLevel.HIGH, EpssScore("CVE-1", 0.9, 1.0), None) == 9.1
    assert risk_score(8.1, SeverityLevel.HIGH, EpssScore("CVE-1", 0.001, 0.0), None) == 7.1
    # KEV: +1.0 plus 20 % of the remaining headroom, capped at 10
    assert risk_score(5.0, SeverityLevel.MEDIUM, None, KEV) == 7.0
    assert risk_score(9.8, SeverityLevel.CRITICAL, EpssScore("CVE-1", 0.97, 1.0), KEV) == 10.0
    # no CVSS base: the level's midpoint
    assert risk_score(None, SeverityLevel.LOW, None, None) == 2.0
