"""The normalized inventory model: what a source contains, independent of any wire format.

Domain types only; JSON/CycloneDX/SPDX live in ``vulnhound.exports`` and map to and from these.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

# Package types are PURL types; they also name the version scheme family the matcher uses.
DEB = "deb"
RPM = "rpm"
APK = "apk"
PYPI = "pypi"
NPM = "npm"
GOLANG = "golang"
MAVEN = "maven"
GEM = "gem"
CARGO = "cargo"
COMPOSER = "composer"
NUGET = "nuget"
GENERIC = "generic"

OS_PACKAGE_TYPES = frozenset({DEB, RPM, APK})


@dataclass(frozen=True, slots=True)
class Location:
    """Where a package was found: a path inside the source's root and the layer that wrote it."""

    path: str  # POSIX, relative to the view root, no leading slash ("var/lib/dpkg/status")
    layer: str | None = None  # layer diff ID ("sha256:…") in images, None elsewhere


@dataclass(frozen=True, slots=True)
class OSInfo:
    """The operating system of a root filesystem, from os-release and friends."""

    id: str  # os-release ID: "debian", "ubuntu", "alpine", "rhel", "almalinux", "rocky", "sles", "mariner", ...
    version_id: str | None = None  # "12", "3.19.1", "9.4"
    version_codename: str | None = None  # "bookworm"
    name: str | None = None
    pretty_name: str | None = None
    id_like: tuple[str, ...] = ()
    cpe_name: str | None = None
    supported: bool = True  # False when vulnhound has no advisory source for this distro/release
    source_file: str | None = None  # which file identified it


@dataclass(slots=True)
class Package:
    """One installed (or locked) package instance.

    ``version`` is the full version string in the ecosystem's own syntax, ready for its version scheme:
    dpkg ``[epoch:]upstream[-revision]``, rpm ``[epoch:]version-release``, apk ``version-rN``, PEP 440, semver, ...
    ``epoch`` and ``release`` repeat the rpm/dpkg components for display and export (Inspector's fields).
    """

    name: str
    version: str
    type: str  # PURL type (DEB, RPM, PYPI, ...)
    purl: str
    found_by: str  # cataloger name
    locations: list[Location] = field(default_factory=list)
    arch: str | None = None
    epoch: int | None = None
    release: str | None = None
    source_name: str | None = None  # deb Source:, rpm SOURCERPM name, apk origin
    source_version: str | None = None
    package_manager: str | None = None  # Inspector's packageManager: OS, PYTHONPKG, NODEPKG, PIP, NPM, JAR, ...
    maintainer: str | None = None
    vendor: str | None = None
    licenses: tuple[str, ...] = ()
    dev: bool = False  # dev-only dependency in a lock file (kept, marked)
    os_owned_by: str | None = None  # for language packages: the OS package that installed its files
    files: tuple[str, ...] = ()  # installed files, when the package DB lists them cheaply
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def layer(self) -> str | None:
        return self.locations[0].layer if self.locations else None

    @property
    def path(self) -> str | None:
        return self.locations[0].path if self.locations else None

    @property
    def id(self) -> str:
        """Stable identity of this package instance within one inventory."""
        key = "\x00".join((self.type, self.name, self.version, self.arch or "", self.path or ""))
        return hashlib.sha256(key.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class CatalogIssue:
    """A problem met while cataloging: names the cataloger, the file, where in it, and what happened."""

    cataloger: str
    path: str
    message: str
    offset: int | None = None  # byte offset or line number, whichever the format makes meaningful
    severity: str = "error"  # "error" (records lost) or "note" (skipped by policy, e.g. a huge file)


@dataclass(frozen=True, slots=True)
class LayerInfo:
    """One image layer: content digest as stored, diff ID of the uncompressed tar, and its history entry."""

    diff_id: str
    digest: str | None = None
    media_type: str | None = None
    size: int | None = None
    created_by: str | None = None


@dataclass(slots=True)
class SourceInfo:
    """What was scanned: the kind of source, its name as given, and image facts when it is an image."""

    kind: str  # "dir", "host", "oci-dir", "oci-archive", "docker-archive", "registry", "zip", "function", "sbom"
    target: str
    digest: str | None = None  # image manifest digest, or a content digest of a zip/SBOM
    platform: str | None = None  # "linux/amd64" when picked from an index
    repo_tags: tuple[str, ...] = ()
    layers: list[LayerInfo] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Inventory:
    """Everything known about one source: its OS, packages and the problems met finding them."""

    source: SourceInfo
    os: OSInfo | None = None
    packages: list[Package] = field(default_factory=list)
    issues: list[CatalogIssue] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)
