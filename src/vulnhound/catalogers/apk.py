"""apk cataloger: Alpine (and Wolfi/Chainguard) packages from ``lib/apk/db/installed``.

The database is blank-line separated records of one-letter fields (apk-tools ``apk_db_index_read``): P name,
V version, A arch, o origin (source package), m maintainer, L licence, and the file list as ``F:`` directory lines
each followed by its ``R:`` file lines.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from vulnhound.catalogers.interface import CatalogContext, Cataloger, CatalogResult, WantHints
from vulnhound.catalogers.os_db import read_db_text
from vulnhound.inventory.model import APK, CatalogIssue, Location, OSInfo, Package
from vulnhound.inventory.purl import apk_purl
from vulnhound.sources.interface import FileView, normalize

INSTALLED = "lib/apk/db/installed"
# usr-merged layouts may hold the only copy under usr/; a root with both reads the first (as apk does)
INSTALLED_PATHS = (INSTALLED, "usr/lib/apk/db/installed")
_SCALARS = frozenset("PVAoLmtc")
# apk versions always end in the package release "-rN"; a record cut short shows here first
_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._+~]*-r[0-9]+$")


class ApkCataloger(Cataloger):
    """Alpine packages from the apk installed database."""

    name = "apk"
    hints = WantHints(prefixes=INSTALLED_PATHS)

    def wants(self, path: str) -> bool:
        return path in INSTALLED_PATHS

    def catalog(self, view: FileView, paths: Sequence[str], ctx: CatalogContext) -> CatalogResult:
        result = CatalogResult()
        for path in [p for p in INSTALLED_PATHS if p in paths][:1]:
            text = read_db_text(view, path, ctx, self.name, result)
            if text is not None:
                self._parse(text, path, ctx, result)
        return result

    def _parse(self, text: str, path: str, ctx: CatalogContext, result: CatalogResult) -> None:
        fields: dict[str, str] = {}
        files: list[str] = []
        start = 1
        bad: int | None = None
        directory = ""
        lines = text.split("\n")
        for lineno, line in enumerate([*lines, ""], start=1):
            if not line.strip():
                if fields or files or bad is not None:
                    self._emit(fields, files, path, start, bad, ctx, result)
                fields, files, bad, directory = {}, [], None, ""
                start = lineno + 1
                continue
            if len(line) < 2 or line[1] != ":":
                if bad is None:
                    bad = lineno
                continue
            key, value = line[0], line[2:].rstrip("\r")
            if key in _SCALARS:
                fields.setdefault(key, value)
            elif not ctx.include_files:
                continue
            elif key == "F":
                directory = normalize(value)
                if directory:
                    files.append(directory)
            elif key == "R":
                p = normalize(f"{directory}/{value}" if directory else value)
                if p:
                    files.append(p)

    def _emit(self, f: dict[str, str], files: list[str], path: str, line: int, bad: int | None,
              ctx: CatalogContext, result: CatalogResult) -> None:
        name, version = f.get("P", ""), f.get("V", "")
        if bad is not None:
            result.issues.append(CatalogIssue(self.name, path, f"malformed line ignored in record {name!r}",
                                              offset=bad))
        if not name or not version:
            missing = "P (name)" if not name else "V (version)"
            result.issues.append(CatalogIssue(self.name, path, f"record without {missing}", offset=line))
            return
        if any(c.isspace() or c == "/" for c in name) or not _VERSION.match(version):
            result.issues.append(CatalogIssue(self.name, path, f"invalid name or version: {name!r} {version!r}",
                                              offset=line))
            return
        result.packages.append(self._package(f, name, version, files, path, ctx.os))
        for p in files:
            result.owned_files.setdefault(p, name)

    def _package(self, f: dict[str, str], name: str, version: str, files: list[str], path: str,
                 os: OSInfo | None) -> Package:
        arch = f.get("A") or None
        lic = f.get("L")
        meta: dict[str, object] = {}
        if f.get("c"):
            meta["aports_commit"] = f["c"]
        return Package(
            name=name, version=version, type=APK, purl=apk_purl(os, name, version, arch, f.get("o")),
            found_by=self.name, locations=[Location(path)], arch=arch, source_name=f.get("o") or name,
            source_version=version, package_manager="OS", maintainer=f.get("m") or None,
            licenses=(lic,) if lic else (), files=tuple(files), metadata=meta,
        )
