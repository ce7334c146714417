"""OS identification from /etc/os-release and the older release files (debian_version, alpine-release, ...)."""

from __future__ import annotations

from vulnhound.inventory.model import OSInfo
from vulnhound.sources.interface import FileView

OS_FILES = (
    "etc/os-release",
    "usr/lib/os-release",
    "etc/debian_version",
    "etc/alpine-release",
    "etc/redhat-release",
    "etc/system-release",
)


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


def identify_os(view: FileView) -> OSInfo | None:
    """Best identification the files allow; None when nothing looks like an OS (a bare app directory)."""
    for path in ("etc/os-release", "usr/lib/os-release"):
        if view.exists(path):
            fields = parse_os_release(view.read_text(path, max_size=64 << 10))
            if fields.get("ID"):
                return OSInfo(
                    id=fields["ID"].lower(),
                    version_id=fields.get("VERSION_ID"),
                    version_codename=fields.get("VERSION_CODENAME") or None,
                    name=fields.get("NAME"),
                    pretty_name=fields.get("PRETTY_NAME"),
                    id_like=tuple(fields.get("ID_LIKE", "").split()),
                    cpe_name=fields.get("CPE_NAME"),
                    source_file=path,
                )
    return None
