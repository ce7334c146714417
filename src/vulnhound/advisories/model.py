"""The normalized advisory model every feed parses into and the store and matcher read.

Follows OSV's shape (ranges of events, enumerated versions, aliases) and adds what distro trackers carry
beyond OSV: a vendor status with its reason per affected package ("no-dsa", "end-of-life", ...), kept as
data rather than collapsed into "fixed"/"not fixed".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class RangeType(StrEnum):
    ECOSYSTEM = "ECOSYSTEM"
    SEMVER = "SEMVER"
    GIT = "GIT"


class EventKind(StrEnum):
    INTRODUCED = "introduced"
    FIXED = "fixed"
    LAST_AFFECTED = "last_affected"
    LIMIT = "limit"


class VendorStatus(StrEnum):
    """What the vendor says about one package in one release; findings keep it verbatim."""

    FIXED = "fixed"  # a fixed version exists (ranges say which)
    AFFECTED = "affected"  # affected per ranges/versions, no vendor statement beyond that (plain OSV)
    UNFIXED = "unfixed"  # open, no fix yet (Debian <unfixed>, open without fixed_version)
    NO_DSA = "no-dsa"  # Debian: minor issue, no security advisory; may be fixed in a point release
    IGNORED = "ignored"  # Debian <ignored>: won't fix
    POSTPONED = "postponed"  # Debian <postponed>: deferred
    WONT_FIX = "wont-fix"  # other vendors' "will not fix"
    END_OF_LIFE = "end-of-life"  # package no longer supported in this release
    UNDETERMINED = "undetermined"  # not yet triaged
    NOT_AFFECTED = "not-affected"


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    version: str


@dataclass(frozen=True, slots=True)
class Range:
    type: RangeType
    events: tuple[Event, ...]
    repo: str | None = None  # GIT ranges


@dataclass(frozen=True, slots=True)
class Severity:
    """One rating from one source: a CVSS vector (scored) or a vendor rating kept verbatim."""

    source: str  # "nvd", "ghsa", "debian", "osv:<record source>", ...
    type: str  # "CVSS_V2", "CVSS_V3", "CVSS_V4", "VENDOR"
    vector: str | None = None
    score: float | None = None  # base score computed with the cvss library (None for VENDOR)
    rating: str | None = None  # "CRITICAL"/"HIGH"/... or the vendor's own word ("low", "unimportant")


@dataclass(frozen=True, slots=True)
class Reference:
    url: str
    type: str = "WEB"


@dataclass(slots=True)
class Affected:
    """One package in one ecosystem (or distro release) and the versions of it that are affected."""

    ecosystem: str  # OSV ecosystem string: "PyPI", "npm", "Go", "Debian:12", "Alpine:v3.19", "AlmaLinux:9"
    name: str  # package name; for distros the *source* package name
    purl: str | None = None
    ranges: tuple[Range, ...] = ()
    versions: tuple[str, ...] = ()  # enumerated affected versions
    status: VendorStatus = VendorStatus.AFFECTED
    status_reason: str | None = None  # the vendor's words: "<no-dsa> Minor issue", "end-of-life", ...
    severities: tuple[Severity, ...] = ()
    ecosystem_specific: dict[str, Any] = field(default_factory=dict)
    database_specific: dict[str, Any] = field(default_factory=dict)

    def fixed_versions(self) -> tuple[str, ...]:
        return tuple(e.version for r in self.ranges for e in r.events if e.kind is EventKind.FIXED)


@dataclass(slots=True)
class Advisory:
    """One record from one source (a PYSEC, a GHSA, a Debian tracker CVE entry, an NVD CVE, ...)."""

    id: str
    source: str  # feed name that produced it: "osv:PyPI", "debian-tracker", "alpine-secdb", "nvd", ...
    aliases: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    summary: str | None = None
    details: str | None = None
    published: datetime | None = None
    modified: datetime | None = None
    withdrawn: datetime | None = None
    references: tuple[Reference, ...] = ()
    cwes: tuple[str, ...] = ()
    severities: tuple[Severity, ...] = ()
    affected: list[Affected] = field(default_factory=list)
    database_specific: dict[str, Any] = field(default_factory=dict)
    # Stored but not used for matching by default (NVD configurations).
    cpe_configurations: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class KevEntry:
    cve_id: str
    vendor_project: str | None
    product: str | None
    name: str | None
    date_added: str  # ISO date
    due_date: str | None
    ransomware_use: str | None  # "Known" / "Unknown"
    required_action: str | None = None
    notes: str | None = None


@dataclass(frozen=True, slots=True)
class EpssScore:
    cve_id: str
    score: float
    percentile: float
    model_version: str | None = None
    score_date: str | None = None


@dataclass(frozen=True, slots=True)
class DistroRelease:
    """Distro release metadata kept as data (codename ↔ version, end of life)."""

    distro: str  # "debian"
    version: str  # "12"
    codename: str | None = None  # "bookworm"
    eol: str | None = None  # ISO date of end of (security) support, None when unknown/active
    ecosystem: str | None = None  # the OSV ecosystem string for this release ("Debian:12")


@dataclass(frozen=True, slots=True)
class Reject:
    """A record a parser skipped: where it was, and why. Counted per source, never fatal."""

    source: str
    location: str  # file path inside the snapshot, plus record id when known
    reason: str


# What a feed's parse() yields.
ParsedItem = Advisory | KevEntry | EpssScore | DistroRelease | Reject
