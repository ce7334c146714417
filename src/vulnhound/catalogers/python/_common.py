"""Helpers shared by the Python and npm catalogers: bounded reads that become issues, and pypi Package building."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from vulnhound.catalogers.interface import CatalogContext, Cataloger, CatalogResult
from vulnhound.inventory.model import PYPI, CatalogIssue, Location, Package
from vulnhound.inventory.purl import make_purl
from vulnhound.sources.interface import FileView, ViewError


def read_limited(view: FileView, path: str, ctx: CatalogContext, cataloger: str,
                 issues: list[CatalogIssue]) -> bytes | None:
    """The file's bytes, or None with an issue appended (a note when over the size limit, an error otherwise)."""
    meta = view.meta(path)
    if meta is not None and meta.kind == "file" and meta.size > ctx.max_file_size:
        issues.append(CatalogIssue(cataloger, path, f"skipped: {meta.size} bytes is over the "
                                   f"{ctx.max_file_size}-byte limit", severity="note"))
        return None
    try:
        return view.read_bytes(path, ctx.max_file_size)
    except ViewError as exc:
        issues.append(CatalogIssue(cataloger, path, f"skipped: {exc}", severity="note"))
    except (OSError, RuntimeError, ValueError, EOFError) as exc:  # zip members can raise these (CRC, encryption)
        issues.append(CatalogIssue(cataloger, path, f"unreadable: {exc}"))
    return None


def pep440(raw: str) -> tuple[str, bool]:
    """(version to report, valid): PEP 440-normalized when valid (what pip reports), the raw string otherwise."""
    try:
        return str(Version(raw)), True
    except InvalidVersion:
        return raw, False


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
    if canonicalize_name(name) != name:
        meta["raw_name"] = name
    cname = canonicalize_name(name)
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
            data = read_limited(view, path, ctx, self.name, out.issues)
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
