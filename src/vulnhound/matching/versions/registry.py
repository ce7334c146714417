"""Which version scheme an OSV ecosystem (or range type) uses, and a cached parse for the matcher's hot path."""

from __future__ import annotations

from functools import lru_cache

from vulnhound.matching.versions.apk import ApkVersion
from vulnhound.matching.versions.composer import ComposerVersion
from vulnhound.matching.versions.dpkg import DpkgVersion
from vulnhound.matching.versions.interface import Version
from vulnhound.matching.versions.maven import MavenVersion
from vulnhound.matching.versions.pep440 import Pep440Version
from vulnhound.matching.versions.rpm import RpmVersion
from vulnhound.matching.versions.rubygems import RubyGemsVersion
from vulnhound.matching.versions.semver import CargoVersion, GoVersion, NugetVersion, SemverVersion


class UnknownEcosystem(LookupError):
    """No version scheme is known for this ecosystem; the matcher reports the record as unmatched."""


SCHEMES: dict[str, type[Version]] = {
    cls.scheme: cls
    for cls in (
        ApkVersion,
        CargoVersion,
        ComposerVersion,
        DpkgVersion,
        GoVersion,
        MavenVersion,
        NugetVersion,
        Pep440Version,
        RpmVersion,
        RubyGemsVersion,
        SemverVersion,
    )
}

# OSV ecosystem names (the part before any ':release') → scheme.
ECOSYSTEMS: dict[str, str] = {
    "PyPI": "pep440",
    "npm": "semver",
    "Go": "go",
    "crates.io": "cargo",
    "RubyGems": "rubygems",
    "Maven": "maven",
    "NuGet": "nuget",
    "Packagist": "composer",
    "Hex": "semver",
    "SwiftURL": "semver",
    "Bitnami": "semver",
    "GitHub Actions": "semver",
    "Debian": "dpkg",
    "Ubuntu": "dpkg",
    "Alpine": "apk",
    "Alpaquita": "apk",
    "BellSoft Hardened Containers": "apk",
    "Wolfi": "apk",
    "Chainguard": "apk",
    "MinimOS": "apk",
    "AlmaLinux": "rpm",
    "Rocky Linux": "rpm",
    "Red Hat": "rpm",
    "SUSE": "rpm",
    "openSUSE": "rpm",
    "Mariner": "rpm",
    "Azure Linux": "rpm",
    "openEuler": "rpm",
    "Photon OS": "rpm",
    "Mageia": "rpm",
    "Amazon Linux": "rpm",
    "Oracle Linux": "rpm",
}


def scheme_for(ecosystem: str, range_type: str | None = None) -> type[Version]:
    """The scheme for an OSV ecosystem string ("Debian:12", "PyPI"); a SEMVER range always uses SemVer."""
    if range_type == "SEMVER":
        return SemverVersion
    base, _, rest = ecosystem.partition(":")
    if base == "Root" and rest:
        return scheme_for(rest)  # Root.io patches upstream packages: "Root:Alpine:3.18", "Root:PyPI"
    name = ECOSYSTEMS.get(base.strip())
    if name is None:
        raise UnknownEcosystem(f"no version scheme for ecosystem {ecosystem!r}")
    return SCHEMES[name]


@lru_cache(maxsize=131072)
def parse(scheme: str, raw: str) -> Version:
    """Parse ``raw`` with the named scheme, cached (raises InvalidVersion, which lru_cache does not cache)."""
    return SCHEMES[scheme](raw)
