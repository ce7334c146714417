"""OS identification from /etc/os-release and the older release files (debian_version, alpine-release, ...).

``supported`` says whether vulnhound has an advisory source for the distro: Debian, Ubuntu, Alpine, AlmaLinux,
Rocky and Red Hat (RHEL, and CentOS, which Red Hat's data covers as RHEL rebuilds). Everything else (Fedora,
Amazon Linux, SUSE, CBL-Mariner/Azure Linux, Oracle Linux, Arch, ...) is identified but marked unsupported.
"""

from __future__ import annotations

import re

from vulnhound.inventory.model import OSInfo
from vulnhound.sources.interface import FileView, ViewError

OS_FILES = (
    "etc/os-release",
    "usr/lib/os-release",
    "etc/debian_version",
    "etc/alpine-release",
    "etc/redhat-release",
    "etc/system-release",
)

SUPPORTED_IDS = frozenset({"debian", "ubuntu", "alpine", "almalinux", "rocky", "rhel", "centos"})

DEBIAN_CODENAMES = {
    "7": "wheezy", "8": "jessie", "9": "stretch", "10": "buster", "11": "bullseye", "12": "bookworm",
    "13": "trixie", "14": "forky", "15": "duke",
}

# "<Name> release <version> (<codename>)" in redhat-release/system-release, mapped to os-release IDs.
_RELEASE_LINE = re.compile(r"^(?P<name>.+?)\s+release\s+(?P<version>[0-9][\w.]*)\s*(?:\((?P<code>[^)]*)\))?")
_RELEASE_IDS = (
    ("red hat enterprise linux", "rhel"), ("centos stream", "centos"), ("centos", "centos"),
    ("almalinux", "almalinux"), ("rocky", "rocky"), ("fedora", "fedora"), ("amazon linux", "amzn"),
    ("oracle linux", "ol"), ("cbl-mariner", "mariner"),
)
_MAX = 64 << 10


def wants_os_file(path: str) -> bool:
    return path in OS_FILES


def parse_os_release(text: str) -> dict[str, str]:
    """KEY=value lines, values optionally quoted (os-release(5))."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key.strip()] = value
    return out


def is_supported(os_id: str) -> bool:
    return os_id in SUPPORTED_IDS


def identify_os(view: FileView) -> OSInfo | None:
    """Best identification the files allow; None when nothing looks like an OS (a bare app directory)."""
    for path in ("etc/os-release", "usr/lib/os-release"):
        fields = parse_os_release(_read(view, path) or "")
        if fields.get("ID"):
            info = OSInfo(
                id=fields["ID"].lower(),
                version_id=fields.get("VERSION_ID") or None,
                version_codename=fields.get("VERSION_CODENAME") or None,
                name=fields.get("NAME"),
                pretty_name=fields.get("PRETTY_NAME"),
                id_like=tuple(fields.get("ID_LIKE", "").split()),
                cpe_name=fields.get("CPE_NAME"),
                supported=is_supported(fields["ID"].lower()),
                source_file=path,
            )
            return _complete_debian(view, info) if info.id == "debian" else info
    return _from_release_files(view)


def _read(view: FileView, path: str) -> str | None:
    try:
        return view.read_text(path, max_size=_MAX)
    except (OSError, ViewError):
        return None


def _complete_debian(view: FileView, info: OSInfo) -> OSInfo:
    """Fill what os-release lacks on Debian: testing/sid carry no VERSION_ID, minimal images no codename."""
    version_id, codename = info.version_id, info.version_codename
    if version_id is None or codename is None:
        dv_id, dv_code = _parse_debian_version(_read(view, "etc/debian_version") or "")
        version_id = version_id or dv_id
        codename = codename or dv_code
    if codename is None and version_id is not None:
        codename = DEBIAN_CODENAMES.get(version_id.split(".")[0])
    if codename is None and info.pretty_name:
        # "Debian GNU/Linux trixie/sid"
        m = re.search(r"\b([a-z]+)/sid\b", info.pretty_name)
        codename = m.group(1) if m else None
    return OSInfo(
        id=info.id, version_id=version_id, version_codename=codename, name=info.name,
        pretty_name=info.pretty_name, id_like=info.id_like, cpe_name=info.cpe_name,
        supported=info.supported, source_file=info.source_file,
    )


def _parse_debian_version(text: str) -> tuple[str | None, str | None]:
    """``12.5`` → ("12", "bookworm"); ``trixie/sid`` → (None, "trixie"); ``bookworm/sid`` likewise."""
    text = text.strip()
    if not text:
        return None, None
    m = re.match(r"^(\d+)(?:\.\d+)*$", text)
    if m:
        return m.group(1), DEBIAN_CODENAMES.get(m.group(1))
    m = re.match(r"^([a-z]+)(?:/sid)?$", text)
    if m:
        return None, m.group(1)
    return None, None


def _from_release_files(view: FileView) -> OSInfo | None:
    text = _read(view, "etc/alpine-release")
    if text and text.strip():
        return OSInfo(id="alpine", version_id=text.strip().splitlines()[0], name="Alpine Linux",
                      supported=True, source_file="etc/alpine-release")
    text = _read(view, "etc/debian_version")
    if text and text.strip():
        version_id, codename = _parse_debian_version(text)
        if version_id or codename:
            return OSInfo(id="debian", version_id=version_id, version_codename=codename, name="Debian GNU/Linux",
                          supported=True, source_file="etc/debian_version")
    for path in ("etc/redhat-release", "etc/system-release"):
        text = _read(view, path)
        m = _RELEASE_LINE.match(text.strip()) if text else None
        if not m:
            continue
        lowered = m.group("name").lower()
        os_id = next((i for prefix, i in _RELEASE_IDS if lowered.startswith(prefix)), lowered.split()[0])
        version = m.group("version")
        if os_id == "centos":
            version = version.split(".")[0]  # "7.9.2009": os-release says VERSION_ID="7"
        return OSInfo(id=os_id, version_id=version, version_codename=m.group("code") or None,
                      name=m.group("name"), pretty_name=text.strip() if text else None,
                      supported=is_supported(os_id), source_file=path)
    return None
