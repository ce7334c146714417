"""PURL building for every cataloger: ``make_purl`` (any type) and the OS helpers (deb, rpm, apk distro qualifiers).

Built with packageurl-python so quoting follows the purl spec ("+" → "%2B", "@types" → "%40types").
"""

from __future__ import annotations

from collections.abc import Mapping

from packageurl import PackageURL

from vulnhound.inventory.model import OSInfo


def make_purl(
    type: str,
    name: str,
    version: str | None = None,
    namespace: str | None = None,
    qualifiers: Mapping[str, str | None] | None = None,
    subpath: str | None = None,
) -> str:
    """The canonical purl string. Qualifiers whose value is None or "" are dropped; the rest are sorted.

    >>> make_purl("pypi", "requests", "2.31.0")
    'pkg:pypi/requests@2.31.0'
    >>> make_purl("npm", "node", "20.1.0", namespace="@types")
    'pkg:npm/%40types/node@20.1.0'
    >>> make_purl("deb", "libc6", "2.36-9+deb12u4", "debian", {"arch": "amd64", "distro": "debian-12"})
    'pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12'
    """
    quals = {k: v for k, v in (qualifiers or {}).items() if v}
    # _make skips the constructor's normalization pass; to_string() normalizes and encodes anyway, and
    # doing it once halves the cost (thousands of OS packages per image).
    purl = PackageURL._make((type, namespace or None, name, version or None, quals or None, subpath or None))
    return str(purl.to_string())


def distro_qualifier(os: OSInfo | None) -> str | None:
    """``<id>-<version_id>`` ("debian-12", "alpine-3.19.1"), as Syft and Trivy write it; None without an OS.

    Debian testing/sid has no VERSION_ID: the codename stands in ("debian-trixie")."""
    if os is None:
        return None
    ver = os.version_id or os.version_codename
    return f"{os.id}-{ver}" if ver else os.id


def os_purl(
    type: str,
    os: OSInfo | None,
    name: str,
    version: str,
    arch: str | None = None,
    default_namespace: str = "",
    **extra: str | None,
) -> str:
    """PURL of an OS package: namespace = os-release ID (or ``default_namespace`` when the OS is unknown),
    qualifiers arch, distro and any ``extra`` ones (rpm ``epoch``, deb ``upstream``)."""
    namespace = os.id if os is not None else default_namespace
    quals: dict[str, str | None] = {"arch": arch, "distro": distro_qualifier(os), **extra}
    return make_purl(type, name, version, namespace or None, quals)


def deb_purl(os: OSInfo | None, name: str, version: str, arch: str | None, source: str | None = None) -> str:
    """``pkg:deb/debian/openssl@3.0.11-1~deb12u2?arch=amd64&distro=debian-12``; ``upstream=<source>`` when the
    source package name differs from the binary one (Syft's convention). The version keeps the dpkg epoch."""
    upstream = source if source and source != name else None
    return os_purl("deb", os, name, version, arch, "debian", upstream=upstream)


def rpm_purl(os: OSInfo | None, name: str, version: str, release: str | None, epoch: int | None,
             arch: str | None) -> str:
    """``pkg:rpm/rhel/openssl@3.0.7-27.el9?arch=x86_64&epoch=1&distro=rhel-9.4`` (purl spec: epoch qualifier)."""
    ver = f"{version}-{release}" if release else version
    return os_purl("rpm", os, name, ver, arch, "", epoch=str(epoch) if epoch is not None else None)


def apk_purl(os: OSInfo | None, name: str, version: str, arch: str | None) -> str:
    """``pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64&distro=alpine-3.19.1``."""
    return os_purl("apk", os, name, version, arch, "alpine")
