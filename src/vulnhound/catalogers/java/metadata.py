"""Parsers for the two metadata files a jar carries: ``META-INF/MANIFEST.MF`` (main section) and Maven's
``pom.properties``. Both are tolerant: bad lines are skipped, never raised on."""

from __future__ import annotations

import re

# "name-1.2.3.jar" → ("name", "1.2.3"); the version starts at the first "-<digit>".
_FILENAME = re.compile(r"^(?P<name>.+?)-(?P<version>\d[^/]*?)\.(?:jar|war|ear|jpi|hpi)$", re.IGNORECASE)


def parse_manifest(text: str) -> dict[str, str]:
    """Attributes of the manifest's main section; continuation lines (leading space) are joined."""
    out: dict[str, str] = {}
    key: str | None = None
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if not line:
            break  # end of the main section; per-entry sections follow
        if line.startswith(" ") and key is not None:
            out[key] += line[1:]
            continue
        k, sep, v = line.partition(":")
        if not sep:
            key = None
            continue
        key = k.strip()
        out[key] = v.strip()
    return out


def parse_properties(text: str) -> dict[str, str]:
    """``key=value`` / ``key: value`` lines of a Java properties file, comments skipped."""
    out: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#!":
            continue
        m = re.match(r"([^=:\s]+)\s*[=:\s]\s*(.*)", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


def name_version_from_filename(filename: str) -> tuple[str | None, str | None]:
    base = filename.rsplit("/", 1)[-1]
    m = _FILENAME.match(base)
    if m:
        return m.group("name"), m.group("version")
    stem = base.rsplit(".", 1)[0]
    return (stem or None), None
