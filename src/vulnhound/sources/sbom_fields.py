"""Map one SBOM component (PURL, producer properties, licenses) back to a ``Package``, and distros to ``OSInfo``.

Understands vulnhound's own ``vulnhound:`` properties exactly, and Trivy's and Syft's conventions as well as their
SBOMs allow (source package, file path, layer); anything else falls back to what the PURL says.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from packageurl import PackageURL

from vulnhound.inventory.model import APK, DEB, GENERIC, OS_PACKAGE_TYPES, RPM, Location, OSInfo, Package
from vulnhound.sources.interface import normalize

# Inspector's packageManager for a PURL type when the SBOM does not say which manager installed it.
PACKAGE_MANAGERS = {
    DEB: "OS", RPM: "OS", APK: "OS", "pypi": "PYTHONPKG", "npm": "NODEPKG", "golang": "GOBINARY", "maven": "JAR",
    "gem": "GEMSPEC", "cargo": "CARGO", "composer": "COMPOSER", "nuget": "NUGET",
}

# Trivy names distros by its own families; os-release IDs are what the rest of vulnhound keys on.
DISTRO_IDS = {
    "alma": "almalinux", "rocky": "rocky", "redhat": "rhel", "centos": "centos", "amazon": "amzn",
    "cbl-mariner": "mariner", "azurelinux": "azurelinux", "oracle": "ol", "photon": "photon",
    "suse linux enterprise server": "sles", "suse linux enterprise micro": "sle-micro",
    "opensuse.leap": "opensuse-leap", "opensuse.tumbleweed": "opensuse-tumbleweed",
}

_EPOCH = re.compile(r"^(\d+):")


@dataclass(slots=True)
class RawComponent:
    """A package as an SBOM states it, before interpretation."""

    name: str
    version: str | None
    purl: str | None
    props: list[tuple[str, str]] = field(default_factory=list)
    licenses: tuple[str, ...] = ()
    source_info: str | None = None  # SPDX sourceInfo ("built package from: glibc 2.36-9", "... DB: /var/lib/...")


class BadComponent(ValueError):
    """A component that cannot become a package (no name, unparseable PURL, ...)."""


def nonempty_str(value: Any) -> str | None:
    """A JSON value as text when it is a non-empty string, else None (SBOM fields are often null, "" or objects)."""
    return value if isinstance(value, str) and value else None


def to_package(raw: RawComponent, found_by: str) -> Package:
    props = _PropBag(raw.props)
    purl = _parse_purl(raw.purl) if raw.purl else None
    ours = props.get("vulnhound:type") is not None
    pkg_type = props.get("vulnhound:type") or (purl.type if purl else GENERIC)
    name = raw.name if ours or purl is None else _purl_name(purl)
    if not name:
        raise BadComponent("component without a name")
    version = raw.version or (purl.version if purl else None) or ""
    quals = dict(purl.qualifiers) if purl and isinstance(purl.qualifiers, dict) else {}
    epoch = _int(props.get("vulnhound:epoch") or quals.get("epoch"))
    if not ours and pkg_type in (DEB, RPM) and epoch and not _EPOCH.match(version):
        version = f"{epoch}:{version}"  # Trivy keeps the epoch in a qualifier only
    if epoch is None and not ours and pkg_type in (DEB, RPM) and (m := _EPOCH.match(version)):
        epoch = int(m.group(1))
    release = props.get("vulnhound:release")
    if release is None and not ours and pkg_type in (DEB, RPM) and "-" in version:
        release = version.rsplit("-", 1)[1]
    source_name, source_version = _source(raw, props, quals, pkg_type, version, ours)
    return Package(
        name=name,
        version=version,
        type=pkg_type,
        purl=props.get("vulnhound:purl") or raw.purl or _generic_purl(name, version),
        found_by=props.get("vulnhound:foundBy") or found_by,
        locations=_locations(props, raw.source_info),
        arch=props.get("vulnhound:arch") or quals.get("arch"),
        epoch=epoch,
        release=release,
        source_name=source_name,
        source_version=source_version,
        package_manager=props.get("vulnhound:packageManager") or (None if ours else PACKAGE_MANAGERS.get(pkg_type)),
        maintainer=props.get("vulnhound:maintainer"),
        vendor=props.get("vulnhound:vendor"),
        licenses=raw.licenses,
        dev=props.get("vulnhound:dev") == "true",
        os_owned_by=props.get("vulnhound:osOwnedBy"),
    )


def os_from_distro(distro: str) -> OSInfo | None:
    """OSInfo from a PURL ``distro`` qualifier: "debian-12", "alpine-3.19.1", "alma-8.9", or a bare codename."""
    head, sep, tail = distro.rpartition("-")
    if sep and tail[:1].isdigit():
        return OSInfo(id=distro_id(head), version_id=tail)
    if distro:
        return OSInfo(id=distro_id(distro)) if not distro[:1].isdigit() else None
    return None


def distro_id(name: str) -> str:
    key = name.strip().lower()
    return DISTRO_IDS.get(key, key)


def os_from_props(name: str, version: str | None, props: Iterable[tuple[str, str]]) -> OSInfo:
    """The OS component of a CycloneDX SBOM (ours, Syft's or Trivy's)."""
    bag = _PropBag(list(props))
    if bag.get("vulnhound:os:id"):
        return OSInfo(
            id=bag.get("vulnhound:os:id") or name, version_id=version,
            version_codename=bag.get("vulnhound:os:versionCodename"), name=bag.get("vulnhound:os:name"),
            pretty_name=bag.get("vulnhound:os:prettyName"), id_like=tuple(bag.all("vulnhound:os:idLike")),
            cpe_name=bag.get("vulnhound:os:cpeName"), supported=bag.get("vulnhound:os:supported") != "false",
            source_file=bag.get("vulnhound:os:sourceFile"),
        )
    id_like = tuple(v for k, v in bag.items if k.startswith("syft:distro:idLike"))
    return OSInfo(
        id=distro_id(bag.get("syft:distro:id") or name),
        version_id=bag.get("syft:distro:versionID") or version,
        version_codename=bag.get("syft:distro:versionCodename"),
        pretty_name=bag.get("syft:distro:prettyName"),
        id_like=id_like,
    )


def guess_os(packages: Iterable[Package]) -> OSInfo | None:
    """When an SBOM has no OS component (Syft's SPDX), the distro qualifier most OS packages carry."""
    counts: dict[str, int] = {}
    for p in packages:
        if p.type not in OS_PACKAGE_TYPES:
            continue
        purl = _parse_purl_or_none(p.purl)
        distro = purl.qualifiers.get("distro") if purl and isinstance(purl.qualifiers, dict) else None
        if distro:
            counts[distro] = counts.get(distro, 0) + 1
    if not counts:
        return None
    return os_from_distro(max(sorted(counts), key=lambda d: counts[d]))


class _PropBag:
    def __init__(self, items: list[tuple[str, str]]) -> None:
        self.items = items
        self._first: dict[str, str] = {}
        for k, v in items:
            self._first.setdefault(k, v)

    def get(self, key: str) -> str | None:
        return self._first.get(key)

    def all(self, key: str) -> list[str]:
        return [v for k, v in self.items if k == key]


def _parse_purl(text: str) -> PackageURL:
    try:
        return PackageURL.from_string(text)
    except ValueError as exc:
        raise BadComponent(f"bad purl {text!r}: {exc}") from None


def _parse_purl_or_none(text: str) -> PackageURL | None:
    try:
        return PackageURL.from_string(text)
    except ValueError:
        return None


def _purl_name(purl: PackageURL) -> str:
    """The package name as the ecosystem (and OSV) spells it."""
    ns, name = purl.namespace, purl.name
    if not ns or purl.type in OS_PACKAGE_TYPES or purl.type in ("pypi", "gem", "cargo", "nuget"):
        return str(name)
    if purl.type == "maven":
        return f"{ns}:{name}"
    return f"{ns}/{name}"  # npm scopes, Go module paths, composer vendors


def _source(raw: RawComponent, props: _PropBag, quals: dict[str, str], pkg_type: str, version: str,
            ours: bool) -> tuple[str | None, str | None]:
    if ours:
        return props.get("vulnhound:sourceName"), props.get("vulnhound:sourceVersion")
    name = props.get("aquasecurity:trivy:SrcName")
    if name:
        ver = props.get("aquasecurity:trivy:SrcVersion")
        if ver and (rel := props.get("aquasecurity:trivy:SrcRelease")):
            ver = f"{ver}-{rel}"
        if ver and (ep := props.get("aquasecurity:trivy:SrcEpoch")) and ep != "0":
            ver = f"{ep}:{ver}"
        return name, ver or _same_version(pkg_type, version)
    if srpm := props.get("syft:metadata:sourceRpm"):
        return _from_srpm(srpm)
    if name := props.get("syft:metadata:source"):
        return name, props.get("syft:metadata:sourceVersion") or _same_version(pkg_type, version)
    if upstream := quals.get("upstream"):
        if upstream.endswith(".src.rpm"):
            return _from_srpm(upstream)
        name, _, ver = upstream.partition("@")
        return name, ver or _same_version(pkg_type, version)
    if raw.source_info and raw.source_info.startswith("built package from: "):
        name, _, ver = raw.source_info.removeprefix("built package from: ").partition(" ")
        return name or None, ver or _same_version(pkg_type, version)
    if pkg_type in (DEB, APK):
        # No Source: field (dpkg) or origin (apk) stated: the source package has the binary's name and version.
        return raw.name or None, version
    return None, None


def _same_version(pkg_type: str, version: str) -> str | None:
    # dpkg omits the source version when it equals the binary's; apk origins always share it.
    return version if pkg_type in (DEB, APK) else None


def _from_srpm(srpm: str) -> tuple[str | None, str | None]:
    parts = srpm.removesuffix(".src.rpm").rsplit("-", 2)
    if len(parts) != 3:
        return None, None
    return parts[0], f"{parts[1]}-{parts[2]}"


def _locations(props: _PropBag, source_info: str | None) -> list[Location]:
    # Paths become view paths (relative, no "..") whatever the SBOM claims, like every other source's.
    out: list[Location] = []
    for prefix, layer_key in (("vulnhound:location:", "layer"), ("syft:location:", "layerID")):
        i = 0
        while (path := props.get(f"{prefix}{i}:path")) is not None:
            out.append(Location(normalize(path), props.get(f"{prefix}{i}:{layer_key}")))
            i += 1
        if out:
            return out
    if path := props.get("aquasecurity:trivy:FilePath"):
        return [Location(normalize(path), props.get("aquasecurity:trivy:LayerDiffID"))]
    if source_info and ": /" in source_info and not source_info.startswith("built package from"):
        # Syft's SPDX: "acquired package info from DPKG DB: /var/lib/dpkg/status"
        return [Location(normalize(source_info.rsplit(": ", 1)[1]))]
    return []


def _generic_purl(name: str, version: str) -> str:
    return str(PackageURL(type=GENERIC, name=name, version=version or None).to_string())


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None
