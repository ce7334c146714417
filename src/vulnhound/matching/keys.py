"""Map an inventory package to the advisory keys it is looked up by: (OSV ecosystem, package name, version).

Distro packages are keyed by their *source* package and source version in the release's ecosystem
("Debian:12", "Alpine:v3.19"), because distro trackers speak of source packages; language packages by their
ecosystem's canonical name. OS-owned language packages are keyed to the distro instead (no upstream ranges on
backported builds).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from packaging.utils import canonicalize_name

from vulnhound.advisories.model import DistroRelease
from vulnhound.inventory.model import OSInfo, Package

LANGUAGE_ECOSYSTEMS = {
    "pypi": "PyPI",
    "npm": "npm",
    "golang": "Go",
    "maven": "Maven",
    "gem": "RubyGems",
    "cargo": "crates.io",
    "composer": "Packagist",
    "nuget": "NuGet",
}


@dataclass(frozen=True, slots=True)
class LookupKey:
    ecosystem: str  # OSV ecosystem string
    name: str  # normalized with ``normalize_name``
    version: str  # the version advisories of this ecosystem speak of
    reason: str  # why this key (shown by ``explain``)


class Unsupported(Exception):
    """A package vulnhound cannot look up (unknown distro release, unknown package type); says why."""


def normalize_name(ecosystem: str, name: str) -> str:
    """The name as the store indexes it (``store.codec.name_key``): PEP 503 for PyPI, verbatim elsewhere.

    Both sides must agree, or a lookup silently misses; case-insensitive ecosystems (NuGet) are exact for now.
    """
    if ecosystem.split(":", 1)[0] == "PyPI":
        return canonicalize_name(name)
    return name


def distro_ecosystems(os: OSInfo, releases: Iterable[DistroRelease] = ()) -> list[str]:
    """Candidate OSV ecosystem strings of one distro release, most specific first; [] when unknown.

    ``releases`` (from the knowledge base) maps a codename to its release when os-release has no VERSION_ID
    (Debian testing images say only ``VERSION_CODENAME=trixie``).
    """
    vid = os.version_id or ""
    if not vid and os.version_codename:
        rel = next((r for r in releases if r.distro == os.id and r.codename == os.version_codename), None)
        if rel is not None and rel.ecosystem:
            return [rel.ecosystem]
    major = vid.split(".", 1)[0]
    if os.id == "debian" and major.isdigit():
        return [f"Debian:{major}"]
    if os.id == "ubuntu" and vid:
        return [f"Ubuntu:{vid}:LTS", f"Ubuntu:{vid}"]
    if os.id == "alpine" and re.match(r"^\d+\.\d+", vid):
        mm = ".".join(vid.split(".")[:2])
        return [f"Alpine:v{mm}"]
    if os.id == "almalinux" and major:
        return [f"AlmaLinux:{major}"]
    if os.id == "rocky" and major:
        return [f"Rocky Linux:{major}"]
    return []


def keys_for(pkg: Package, os: OSInfo | None, releases: Iterable[DistroRelease] = ()) -> list[LookupKey]:
    """Every key to look ``pkg`` up by. Raises Unsupported with the reason when there is none."""
    if pkg.type in ("deb", "apk", "rpm") or pkg.os_owned_by:
        if os is None:
            raise Unsupported("OS package but the operating system could not be identified")
        ecos = distro_ecosystems(os, releases)
        if not ecos:
            raise Unsupported(f"no advisory source for {os.id} {os.version_id or '?'}")
        if pkg.os_owned_by and pkg.type not in ("deb", "apk", "rpm"):
            # Matched through the owning OS package (that record carries the distro's own fixes).
            raise Unsupported(f"owned by OS package {pkg.os_owned_by}; matched through it")
        if pkg.type == "rpm":
            # AlmaLinux/Rocky OSV records name binary packages and give [epoch:]version-release bounds; rpmdb
            # omits epoch 0, so a version without an epoch compares as epoch 0 (rpm's own rule).
            return [LookupKey(e, pkg.name, pkg.version, f"binary rpm {pkg.name} {pkg.version} in {e}") for e in ecos]
        name = pkg.source_name or pkg.name
        version = pkg.source_version or pkg.version
        why = "source package" if pkg.type == "deb" else "origin package"
        return [LookupKey(e, normalize_name(e, name), version, f"{why} {name} {version} in {e}") for e in ecos]
    eco = LANGUAGE_ECOSYSTEMS.get(pkg.type)
    if eco is None:
        raise Unsupported(f"no advisory ecosystem for package type {pkg.type!r}")
    version = pkg.version
    if eco == "Go" and version.startswith("v"):
        version = version[1:]  # OSV Go ranges are SEMVER without the leading v
    return [LookupKey(eco, normalize_name(eco, pkg.name), version, f"{eco} package {pkg.name}")]
