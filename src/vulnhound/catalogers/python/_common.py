"""Helpers shared by the Python and npm catalogers: the read-whole-file cataloger base and pypi Package building."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

from packaging.version import InvalidVersion, Version

from vulnhound.catalogers.interface import CatalogContext, Cataloger, CatalogResult
from vulnhound.catalogers.lockfile import read_limited
from vulnhound.inventory.model import PYPI, CatalogIssue, Location, Package
from vulnhound.inventory.purl import make_purl
from vulnhound.sources.interface import FileView


def pep440(raw: str) -> tuple[str, bool]:
    """(version to report, valid): PEP 440-normalized when valid (what pip reports), the raw string otherwise."""
    try:
        return str(Version(raw)), True
    except InvalidVersion:
        return raw, False


def canonicalize_name(name: str) -> str:
    """PEP 503 normalization, as ``packaging.utils.canonicalize_name`` does it; importing that module pulls in
    packaging.tags (subprocess, logging, sysconfig): ~13 ms of every scan that meets a Python package."""
    value = name.lower().replace("_", "-").replace(".", "-")
    while "--" in value:
        value = value.replace("--", "-")
    return value


def pypi_package(name: str, raw_version: str, path: str, found_by: str, manager: str, *, dev: bool = False,
                 licenses: tuple[str, ...] = (), maintainer: str | None = None,
                 metadata: dict[str, Any] | None = None) -> Package:
    """A pypi Package with a PEP 503 name and a PEP 440 version; the raw spelling is kept when it differs."""
    version, valid = pep440(raw_version.strip())
    meta: dict[str, Any] = dict(metadata or {})
    if not valid:
        meta["version_invalid"] = True
    elif version != raw_version:
        meta["raw_version"] = raw_version
    cname = canonicalize_name(name)
    if cname != name:
        meta["raw_name"] = name
    return Package(name=cname, version=version, type=PYPI, purl=make_purl(PYPI, cname, version), found_by=found_by,
                   locations=[Location(path)], package_manager=manager, dev=dev, licenses=licenses,
                   maintainer=maintainer, metadata=meta)


# What a structurally wrong document raises while being walked (a string where a table belongs, bad JSON/TOML).
MALFORMED = (ValueError, TypeError, AttributeError, KeyError)


class FileCataloger(Cataloger):
    """A cataloger that reads each wanted file whole (bounded by ``max_file_size``) and parses it on its own;
    a parse failure becomes one error naming the file, and what was appended before it is kept."""

    document = "file"  # named in the malformed-file message

    def catalog(self, view: FileView, paths: Sequence[str], ctx: CatalogContext) -> CatalogResult:
        out = CatalogResult()
        for path in paths:
            if self.skip(view, path):
                continue
            data = read_limited(view, path, ctx, self.name, out)
            if data is None:
                continue
            try:
                self.parse_file(view, path, data, out)
            except MALFORMED as exc:
                out.issues.append(CatalogIssue(self.name, path, f"malformed {self.document}: {exc}"))
        return out

    def skip(self, view: FileView, path: str) -> bool:
        """True to pass over a wanted file without reading it (e.g. covered by another cataloger)."""
        return False

    @abstractmethod
    def parse_file(self, view: FileView, path: str, data: bytes, out: CatalogResult) -> None:
        """Append the file's packages and issues to ``out``; raise one of MALFORMED for a broken document."""

    def note(self, out: CatalogResult, path: str, message: str, line: int | None = None) -> None:
        out.issues.append(CatalogIssue(self.name, path, message, offset=line, severity="note"))
