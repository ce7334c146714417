"""Score CVSS vectors (v2, v3.x, v4) with the ``cvss`` library into ``Severity`` values; feeds share this helper.

An invalid vector raises ``InvalidSeverity`` so the caller can keep the record, drop the rating and count it.
"""

from __future__ import annotations

from cvss import CVSS2, CVSS3, CVSS4
from cvss.exceptions import CVSSError

from vulnhound.advisories.model import Severity


class InvalidSeverity(ValueError):
    """A vector the cvss library cannot parse, or a type we do not know."""


def rating_for_score(score: float) -> str:
    """CVSS v3/v4 qualitative rating for a numeric base score (NVD baseScore without a vector)."""
    if score == 0.0:
        return "NONE"
    if score < 4.0:
        return "LOW"
    if score < 7.0:
        return "MEDIUM"
    if score < 9.0:
        return "HIGH"
    return "CRITICAL"


def _v2_rating(score: float) -> str:
    # NVD's CVSS v2 bands: there is no CRITICAL in v2.
    if score < 4.0:
        return "LOW"
    if score < 7.0:
        return "MEDIUM"
    return "HIGH"


def infer_type(vector: str) -> str:
    """The OSV severity type a bare vector belongs to."""
    if vector.startswith("CVSS:4"):
        return "CVSS_V4"
    if vector.startswith("CVSS:3"):
        return "CVSS_V3"
    return "CVSS_V2"


def score_vector(vector: str, source: str, type_: str | None = None) -> Severity:
    """A ``Severity`` with base score and rating computed from ``vector``; raises ``InvalidSeverity``."""
    vector = vector.strip()
    kind = type_ or infer_type(vector)
    try:
        if kind == "CVSS_V4":
            v4 = CVSS4(vector)
            score = float(v4.base_score)
            return Severity(source, kind, vector, score, str(v4.severity).upper())
        if kind == "CVSS_V3":
            v3 = CVSS3(vector)
            score = float(v3.base_score)
            return Severity(source, kind, vector, score, str(v3.severities()[0]).upper())
        if kind == "CVSS_V2":
            score = float(CVSS2(vector).base_score)
            return Severity(source, kind, vector, score, _v2_rating(score))
    except (CVSSError, ValueError, KeyError, IndexError) as exc:
        raise InvalidSeverity(f"invalid {kind} vector {vector!r}: {exc}") from None
    raise InvalidSeverity(f"unknown severity type {kind!r}")


def vendor_rating(word: str, source: str) -> Severity:
    """A vendor's own word ("HIGH", "moderate", "unimportant") kept verbatim; no score."""
    return Severity(source, "VENDOR", None, None, word.strip())


__all__ = ["InvalidSeverity", "infer_type", "rating_for_score", "score_vector", "vendor_rating"]
