"""Installed Python distributions: ``*.dist-info/METADATA``, ``*.egg-info/PKG-INFO`` and ``*.egg-info`` files,
wherever they sit (site-packages, dist-packages, venvs, ``pip install --target`` trees, function zips)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from vulnhound.catalogers.interface import CatalogContext, CatalogResult, WantHints
from vulnhound.catalogers.python._common import FileCataloger, pypi_package
from vulnhound.inventory.model import Package
from vulnhound.sources.interface import FileView

# A License field longer than this is the whole licence text pasted in, not a name.
MAX_LICENSE_NAME = 80


def wants_metadata(path: str) -> bool:
    return (path.endswith(".dist-info/METADATA") or path.endswith(".egg-info/PKG-INFO")
            or path.endswith(".egg-info"))


def site_dir(path: str) -> str:
    """The directory holding a distribution's metadata directory (or egg-info file): its site-packages."""
    parts = path.split("/")
    for i in range(len(parts) - 1, -1, -1):
        if parts[i].endswith((".dist-info", ".egg-info")):
            return "/".join(parts[:i])
    return path.rsplit("/", 1)[0]


def merge_same_site(packages: list[Package]) -> list[Package]:
    """One package per (name, version, site directory): a distribution with both a dist-info and a stale
    egg-info (Debian's python3-cryptography ships both) is one installed distribution, as importlib.metadata and
    pip list see it; the second metadata path is kept as another location. dist-info sorts first."""
    merged: dict[tuple[str, str, str], Package] = {}
    ordered = sorted(packages, key=lambda p: (p.path or "").find(".egg-info") >= 0)
    for pkg in ordered:
        key = (pkg.name, pkg.version, site_dir(pkg.path or ""))
        first = merged.get(key)
        if first is None:
            merged[key] = pkg
        else:
            first.locations.extend(pkg.locations)
    kept = {id(m) for m in merged.values()}
    return [p for p in packages if id(p) in kept]


# email.feedparser's patterns: a header, continuation or envelope line; lines split on \r\n, \r or \n.
_HEADER_LINE = re.compile(r"From |[\041-\071\073-\176]*:|[\t ]")
_LINES = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")


class Headers:
    """The header block of a core-metadata file exactly as ``email.parser.Parser(policy=email.policy.compat32)
    .parsestr(text, headersonly=True)`` reads it (``get``/``get_all``), without importing the email package
    (~15 ms, more than most scans spend parsing METADATA)."""

    def __init__(self, text: str) -> None:
        self._headers: list[tuple[str, str]] = []
        lines: list[str] = []
        for line in _LINES.findall(text):
            if not _HEADER_LINE.match(line):
                break  # the blank separator line, or the body
            lines.append(line)
        value: list[str] = []
        for line in lines:
            if line[0] in " \t":
                if value:  # a continuation; one before any header is dropped (a defect to email)
                    value.append(line)
                continue
            if value:
                self._add(value)
                value = []
            if line.startswith("From ") or line.startswith(":"):
                continue  # an envelope line, or a header without a name: email drops both
            value = [line]
        if value:
            self._add(value)

    def _add(self, lines: list[str]) -> None:
        name, value = lines[0].split(":", 1)
        self._headers.append((name, (value.lstrip(" \t") + "".join(lines[1:])).rstrip("\r\n")))

    def get(self, name: str) -> str | None:
        name = name.lower()
        return next((v for k, v in self._headers if k.lower() == name), None)

    def get_all(self, name: str) -> list[str] | None:
        name = name.lower()
        return [v for k, v in self._headers if k.lower() == name] or None


def licenses_of(msg: Headers) -> tuple[str, ...]:
    """License-Expression (metadata 2.4) first, then a short License field, then the licence classifiers."""
    expr = (msg.get("License-Expression") or "").strip()
    if expr:
        return (expr,)
    field = (msg.get("License") or "").strip()
    if field and field.upper() != "UNKNOWN" and len(field) <= MAX_LICENSE_NAME and "\n" not in field:
        return (field,)
    found = [c.split("::")[-1].strip() for c in msg.get_all("Classifier") or [] if c.startswith("License ::")]
    return tuple(dict.fromkeys(c for c in found if c and c != "OSI Approved"))


class PythonInstalledCataloger(FileCataloger):
    """One package per installed distribution; the location is its METADATA (or PKG-INFO) file."""

    name = "python-installed"
    hints = WantHints(basenames=frozenset({"METADATA", "PKG-INFO"}), extensions=frozenset({".egg-info"}))
    document = "metadata"

    def wants(self, path: str) -> bool:
        return wants_metadata(path)

    def catalog(self, view: FileView, paths: Sequence[str], ctx: CatalogContext) -> CatalogResult:
        out = super().catalog(view, paths, ctx)
        out.packages = merge_same_site(out.packages)
        return out

    def parse_file(self, view: FileView, path: str, data: bytes, out: CatalogResult) -> None:
        # Only the header block matters; the description body can be megabytes.
        # Core metadata is UTF-8 (as importlib.metadata reads it); parsing bytes would turn non-ASCII headers
        # (a "Maintainer: Alex Grönholm") into Header objects instead of text.
        head = data.split(b"\n\n", 1)[0].decode("utf-8", errors="replace")
        msg = Headers(head)
        name = (msg.get("Name") or "").strip()
        version = (msg.get("Version") or "").strip()
        if not name or not version:
            raise ValueError(f"no {'Name' if not name else 'Version'} field")
        maintainer = (msg.get("Maintainer") or msg.get("Author") or "").strip() or None
        pkg = pypi_package(name, version, path, self.name, "PYTHONPKG", licenses=licenses_of(msg),
                           maintainer=maintainer)
        if pkg.metadata.get("version_invalid"):
            self.note(out, path, f"version {version!r} is not PEP 440; kept as is")
        out.packages.append(pkg)
