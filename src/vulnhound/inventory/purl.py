"""PURL building for every cataloger: ``make_purl`` (any type) and the OS helpers (deb, rpm, apk distro qualifiers).

Built with packageurl-python so quoting follows the purl spec ("+" → "%2B", "@types" → "%40types").
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from packageurl import PackageURL, normalize_namespace, normalize_qualifiers, quote

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
    Raises ValueError for an empty type or name, or a qualifier key the purl spec forbids.

    >>> make_purl("pypi", "requests", "2.31.0")
    'pkg:pypi/requests@2.31.0'
    >>> make_purl("npm", "node", "20.1.0", namespace="@types")
    'pkg:npm/%40types/node@20.1.0'
    >>> make_purl("deb", "libc6", "2.36-9+deb12u4", "debian", {"arch": "amd64", "distro": "debian-12"})
    'pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64&distro=debian-12'
    """
    if not type or not name.strip().strip("/"):
        raise ValueError(f"a purl needs a type and a name (got type={type!r}, name={name!r})")
    quals = {k: v for k, v in (qualifiers or {}).items() if v}
    fields = (type, namespace or None, name, version or None, quals or None, subpath or None)
    if _plain(name) and (namespace or "").isascii():
        # _make skips the constructor's normalization pass; to_string() normalizes and encodes anyway, and doing
        # it once halves the cost. Exact for ASCII names; the library lowercases non-ASCII ones before encoding.
        return str(PackageURL._make(fields).to_string())
    return str(PackageURL(*fields).to_string())


def _plain(name: str) -> bool:
    """Names for which one normalization pass gives what the library's two give: ASCII (the library lowercases
    some types' names before encoding) with nothing to strip at the ends (it strips before encoding too)."""
    return bool(name) and name.isascii() and name == name.strip().strip("/")


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
    qualifiers arch, distro and any ``extra`` ones (rpm ``epoch``, deb ``upstream``).

    Same string as ``make_purl`` (the tests check it), built faster: an image holds thousands of OS packages that
    share a handful of qualifier sets, so the encoded qualifiers are cached and only name and version are quoted.
    """
    namespace = os.id if os is not None else default_namespace
    quals = tuple((k, v) for k, v in (("arch", arch), ("distro", distro_qualifier(os)), *extra.items()) if v)
    if type not in _FAST_TYPES or not _plain(name) or not version.strip():
        return make_purl(type, name, version, namespace or None, dict(quals))
    head = _head(type, namespace)
    name_q = quote(name).strip().strip("/")
    if type == "apk":
        name_q = name_q.lower()
    tail = _qualifier_string(quals)
    return f"{head}{name_q}@{quote(version.strip())}{'?' + tail if tail else ''}"


_FAST_TYPES = frozenset({"deb", "rpm", "apk"})


@lru_cache(maxsize=256)
def _head(type: str, namespace: str) -> str:
    ns = normalize_namespace(namespace, type, encode=True)
    return f"pkg:{type}/{ns}/" if ns else f"pkg:{type}/"


@lru_cache(maxsize=4096)
def _qualifier_string(quals: tuple[tuple[str, str], ...]) -> str:
    return str(normalize_qualifiers(dict(quals), encode=True) or "")


def deb_purl(os: OSInfo | None, name: str, version: str, arch: str | None, source: str | None = None,
             source_version: str | None = None) -> str:
    """``pkg:deb/debian/libssl3@3.0.11-1~deb12u2?arch=amd64&distro=debian-12&upstream=openssl``.

    ``upstream`` follows Syft: the ``Source:`` field as written, ``name@version`` when it carries a version
    (binNMUs: ``upstream=bash%405.2.15-2``); nothing when the source is the binary package itself. The version keeps
    the dpkg epoch."""
    upstream = None
    if source and (source != name or source_version):
        upstream = f"{source}@{source_version}" if source_version else source
    return os_purl("deb", os, name, version, arch, "debian", upstream=upstream)


def rpm_purl(os: OSInfo | None, name: str, version: str, release: str | None, epoch: int | None,
             arch: str | None, source_rpm: str | None = None) -> str:
    """``pkg:rpm/rhel/openssl@3.0.7-27.el9?arch=x86_64&distro=rhel-9.4&epoch=1&upstream=openssl-3.0.7-27.el9.src.rpm``
    (purl spec: epoch qualifier; ``upstream`` = the SOURCERPM file name, as Syft writes it)."""
    ver = f"{version}-{release}" if release else version
    return os_purl("rpm", os, name, ver, arch, "", epoch=str(epoch) if epoch is not None else None,
                   upstream=source_rpm)


def apk_purl(os: OSInfo | None, name: str, version: str, arch: str | None, origin: str | None = None) -> str:
    """``pkg:apk/alpine/libcrypto3@3.1.4-r5?arch=x86_64&distro=alpine-3.19.1&upstream=openssl``; ``upstream`` only
    when the origin (source) package differs from the package itself (Syft's convention)."""
    return os_purl("apk", os, name, version, arch, "alpine", upstream=origin if origin != name else None)
