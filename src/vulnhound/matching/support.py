"""Is the scanned distro release covered at all? End-of-life and unknown releases become findings/warnings.

A release past its end of (security) support gets Inspector's "Platform End Of Life" finding (IN-DISCONTINUED-001,
CRITICAL, a CONFIGURATION finding); an unknown release or one without advisories in the knowledge base gets a
warning, so a scan never reports "nothing found" for packages it never checked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from vulnhound.advisories.model import DistroRelease
from vulnhound.findings.model import Finding, FindingType, FixAvailable, SeverityLevel
from vulnhound.inventory.model import OSInfo

EOL_FINDING_ID = "IN-DISCONTINUED-001"
OS_TYPES = frozenset({"deb", "rpm", "apk"})


@dataclass(slots=True)
class SupportCheck:
    warnings: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)


def builtin_releases() -> list[DistroRelease]:
    """Release data shipped with the feeds, used when the knowledge base holds none for a distro."""
    from vulnhound.advisories.debian_releases import distro_releases

    return list(distro_releases())


def release_of(os: OSInfo, releases: Iterable[DistroRelease]) -> DistroRelease | None:
    major = (os.version_id or "").split(".", 1)[0]
    for r in releases:
        if r.distro != os.id:
            continue
        if (major and r.version == major) or (not major and os.version_codename and r.codename == os.version_codename):
            return r
    return None


def check_support(os: OSInfo | None, ecosystems: list[str], present: set[str], releases: list[DistroRelease],
                  resource_id: str, today: dt.date | None = None) -> SupportCheck:
    """``ecosystems``: the release's advisory ecosystems (empty when unknown); ``present``: those with records."""
    out = SupportCheck()
    if os is None:
        out.warnings.append("the operating system could not be identified; OS packages were NOT checked")
        return out
    label = f"{os.pretty_name or os.id} ({os.id} {os.version_id or os.version_codename or '?'})"
    if not ecosystems:
        out.warnings.append(f"{label}: no advisory source for this distribution release; its OS packages were "
                            "NOT checked")
    elif not present:
        out.warnings.append(f"{label}: the knowledge base has no advisories for {', '.join(ecosystems)}; its OS "
                            "packages were looked up but nothing could match (add the distro's feed)")
    known = {r.distro for r in releases}
    rel = release_of(os, releases if os.id in known else [*releases, *builtin_releases()])
    today = today or dt.date.today()
    if rel is not None and rel.eol and dt.date.fromisoformat(rel.eol) < today:
        out.warnings.append(f"{label} reached end of life on {rel.eol}: it receives no security fixes")
        out.findings.append(_eol_finding(os, rel, label, resource_id))
    return out


def _eol_finding(os: OSInfo, rel: DistroRelease, label: str, resource_id: str) -> Finding:
    fid = hashlib.sha256(f"{resource_id}\x00{EOL_FINDING_ID}\x00{os.id}:{rel.version}".encode()).hexdigest()[:32]
    return Finding(
        id=fid,
        type=FindingType.CONFIGURATION,
        title=f"{EOL_FINDING_ID} - Platform End Of Life: {label}",
        description=(f"{label} reached the end of its security support on {rel.eol}. Its packages get no more "
                     "security fixes, so vulnerabilities found after that date are neither fixed nor reported."),
        severity=SeverityLevel.CRITICAL,
        severity_source="vulnhound",
        severity_ratings=[{"source": "vulnhound", "type": "VENDOR", "vector": None, "score": None,
                           "rating": "CRITICAL", "level": "CRITICAL"}],
        risk_score=10.0,
        fix_available=FixAvailable.YES,
        exploit_available=False,
        kev=None,
        epss=None,
        remediation=f"Upgrade to a supported {os.name or os.id} release.",
        details={"checkId": EOL_FINDING_ID, "distro": rel.distro, "version": rel.version,
                 "codename": rel.codename, "endOfLife": rel.eol},
    )
