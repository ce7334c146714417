"""The finding domain model: one finding per (vulnerability group, package instance), named after Inspector's.

Finding types other than package vulnerabilities (network reachability, configuration checks) share
``Finding``; the package-specific part lives in ``PackageVulnerabilityDetails`` so nothing assumes packages.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class FindingType(StrEnum):
    PACKAGE_VULNERABILITY = "PACKAGE_VULNERABILITY"
    NETWORK_REACHABILITY = "NETWORK_REACHABILITY"
    CONFIGURATION = "CONFIGURATION"
    CODE_VULNERABILITY = "CODE_VULNERABILITY"


class SeverityLevel(StrEnum):
    INFORMATIONAL = "INFORMATIONAL"
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"
    UNTRIAGED = "UNTRIAGED"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {
    SeverityLevel.UNTRIAGED: 0,
    SeverityLevel.INFORMATIONAL: 1,
    SeverityLevel.LOW: 2,
    SeverityLevel.MEDIUM: 3,
    SeverityLevel.HIGH: 4,
    SeverityLevel.CRITICAL: 5,
}


class FixAvailable(StrEnum):
    YES = "YES"
    NO = "NO"
    PARTIAL = "PARTIAL"


@dataclass(frozen=True, slots=True)
class CvssEntry:
    source: str
    version: str  # "2.0", "3.1", "4.0"
    vector: str
    base_score: float


@dataclass(slots=True)
class VulnerablePackage:
    name: str
    version: str
    epoch: int | None
    release: str | None
    arch: str | None
    package_manager: str | None
    purl: str
    file_path: str | None
    source_layer_hash: str | None
    fixed_in_version: str | None  # "NotAvailable" when the vendor has no fix
    remediation: str | None
    package_id: str  # the inventory package instance id


@dataclass(frozen=True, slots=True)
class Provenance:
    """Why this finding exists, in terms a person can check: which record, which rule, which versions."""

    advisory_id: str
    advisory_source: str
    ecosystem: str
    package_name: str  # the name the advisory speaks of (source package for distros)
    installed_version: str
    rule: str  # plain words from the range evaluation
    vendor_status: str
    vendor_status_reason: str | None = None
    update_operation: int | None = None  # knowledge-base update operation that last wrote the record


@dataclass(slots=True)
class PackageVulnerabilityDetails:
    vulnerability_id: str  # the group's display id (CVE when there is one)
    source: str  # the source of the record that set severity ("debian-tracker", "osv:PyPI", "nvd", ...)
    aliases: tuple[str, ...]
    related: tuple[str, ...]
    source_url: str | None
    reference_urls: tuple[str, ...]
    cwes: tuple[str, ...]
    vendor_severity: str | None
    cvss: list[CvssEntry]
    vulnerable_packages: list[VulnerablePackage]
    provenance: list[Provenance]
    vendor_status: str  # fixed / unfixed / no-dsa / ignored / postponed / end-of-life / affected / ...
    vendor_created_at: str | None = None
    vendor_updated_at: str | None = None


@dataclass(slots=True)
class Finding:
    id: str  # stable: hash of (resource, vulnerability group, package instance)
    type: FindingType
    title: str
    description: str
    severity: SeverityLevel
    severity_source: str  # who rated it ("debian", "ghsa", "nvd", ...)
    severity_ratings: list[dict[str, Any]]  # every source's rating and vector
    risk_score: float  # documented in docs/scoring.md
    fix_available: FixAvailable
    exploit_available: bool
    kev: dict[str, Any] | None
    epss: dict[str, Any] | None
    remediation: str
    package: PackageVulnerabilityDetails | None = None
    details: dict[str, Any] = field(default_factory=dict)  # other finding types' details
    status: str = "ACTIVE"
    suppressed_by: str | None = None  # ignore-file entry / VEX statement / rule that suppressed it


@dataclass(frozen=True, slots=True)
class Unmatched:
    """A package (or package × advisory pair) the matcher could not decide; never silently dropped."""

    package_id: str
    name: str
    version: str
    reason: str
    advisory_id: str | None = None
