"""Severity selection (vendor first) and the risk score (CVSS base adjusted with EPSS and KEV).

Documented in docs/scoring.md; the rules here are the reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from vulnhound.advisories.model import EpssScore, KevEntry, Severity
from vulnhound.findings.model import SeverityLevel

# Distro urgency words (Debian tracker, Ubuntu priority, Alpine none) → levels. "not yet assigned" is no rating.
_VENDOR_WORDS = {
    "unimportant": SeverityLevel.LOW,
    "negligible": SeverityLevel.LOW,
    "low": SeverityLevel.LOW,
    "low*": SeverityLevel.LOW,
    "medium": SeverityLevel.MEDIUM,
    "medium*": SeverityLevel.MEDIUM,
    "moderate": SeverityLevel.MEDIUM,
    "high": SeverityLevel.HIGH,
    "high*": SeverityLevel.HIGH,
    "important": SeverityLevel.HIGH,
    "critical": SeverityLevel.CRITICAL,
}


def band(score: float) -> SeverityLevel:
    """CVSS v3 bands, as Inspector uses them."""
    if score <= 0.0:
        return SeverityLevel.INFORMATIONAL
    if score < 4.0:
        return SeverityLevel.LOW
    if score < 7.0:
        return SeverityLevel.MEDIUM
    if score < 9.0:
        return SeverityLevel.HIGH
    return SeverityLevel.CRITICAL


def level_of(sev: Severity) -> SeverityLevel | None:
    """One source's rating as a level, or None when it says nothing usable."""
    if sev.type == "VENDOR" or sev.score is None:
        word = (sev.rating or "").strip().lower()
        if word in _VENDOR_WORDS:
            return _VENDOR_WORDS[word]
        if sev.score is None:
            return None
    assert sev.score is not None
    return band(sev.score)


@dataclass(frozen=True, slots=True)
class Chosen:
    level: SeverityLevel
    source: str
    base_score: float | None  # the CVSS base score the risk score starts from
    vector: str | None


def _best_cvss(sevs: Sequence[Severity]) -> Severity | None:
    """Prefer CVSS v3.x, then v4, then v2 — Inspector's default base is v3.1."""
    order = {"CVSS_V3": 0, "CVSS_V4": 1, "CVSS_V2": 2}
    scored = [s for s in sevs if s.score is not None and s.type in order]
    return min(scored, key=lambda s: order[s.type]) if scored else None


def choose_severity(
    vendor: Sequence[Severity], ghsa: Sequence[Severity], nvd: Sequence[Severity], other: Sequence[Severity]
) -> Chosen:
    """Vendor first (the distro for OS packages), then GHSA, then NVD, then anything else; else UNTRIAGED."""
    base = _best_cvss([*vendor, *nvd, *ghsa, *other])
    for group in (vendor, ghsa, nvd, other):
        cv = _best_cvss(group)
        if cv is not None:
            lvl = level_of(cv)
            assert lvl is not None
            return Chosen(lvl, cv.source, cv.score, cv.vector)
        for s in group:
            lvl = level_of(s)
            if lvl is not None:
                return Chosen(lvl, s.source, base.score if base else None, base.vector if base else None)
    return Chosen(SeverityLevel.UNTRIAGED, "none", base.score if base else None, base.vector if base else None)


def risk_score(base: float | None, level: SeverityLevel, epss: EpssScore | None, kev: KevEntry | None) -> float:
    """0–10. Start from the CVSS base score (or the level's midpoint when there is no vector), then:
    known exploited (KEV) raises it by 20 % of the headroom to 10 plus 1.0; EPSS percentile p moves it by
    (p − 0.5) × 2.0, so a likely-exploited bug gains up to +1 and an unlikely one loses up to −1.
    Exposure (network reachability) comes later and will adjust the base metrics as Inspector does."""
    midpoints = {
        SeverityLevel.CRITICAL: 9.5, SeverityLevel.HIGH: 8.0, SeverityLevel.MEDIUM: 5.5,
        SeverityLevel.LOW: 2.0, SeverityLevel.INFORMATIONAL: 0.0, SeverityLevel.UNTRIAGED: 5.0,
    }
    score = base if base is not None else midpoints[level]
    if epss is not None:
        score += (epss.percentile - 0.5) * 2.0
    if kev is not None:
        score += 1.0 + 0.2 * (10.0 - score)
    return round(min(10.0, max(0.0, score)), 1)
