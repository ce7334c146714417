""".NET NuGet packages: ``*.deps.json`` next to a built application (libraries of type ``package``;
package_manager DOTNET_CORE, as Inspector reports them) and ``packages.lock.json`` (resolved versions per
target framework, ``Project`` references left out; package_manager NUGET). One package per name and version."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from vulnhound.catalogers.interface import CatalogContext, Cataloger, CatalogResult, WantHints
from vulnhound.catalogers.lockfile import NO_DOC, lang_package, load_json
from vulnhound.inventory.model import NUGET, CatalogIssue
from vulnhound.inventory.purl import make_purl
from vulnhound.sources.interface import FileView

NAME = "dotnet"
_ID = re.compile(r"^[A-Za-z0-9_.-]+$")  # NuGet's id charset; others would make misleading PURLs
_VERSION = re.compile(r"^[A-Za-z0-9_.+-]+$")


class DotnetCataloger(Cataloger):
    name = NAME
    hints = WantHints(basenames=frozenset({"packages.lock.json"}), extensions=frozenset({".json"}))

    def wants(self, path: str) -> bool:
        return path.endswith(".deps.json") or (path.endswith("packages.lock.json") and (
            path.rsplit("/", 1)[-1] == "packages.lock.json"))

    def catalog(self, view: FileView, paths: Sequence[str], ctx: CatalogContext) -> CatalogResult:
        result = CatalogResult()
        for path in paths:
            doc = load_json(view, path, ctx, NAME, result)
            if doc is NO_DOC:
                continue
            if not isinstance(doc, dict):
                result.issues.append(CatalogIssue(NAME, path, "not a JSON object"))
                continue
            bad: list[str] = []
            found = _deps_json(doc, bad) if path.endswith(".deps.json") else _packages_lock(doc, bad)
            if found is None:
                result.issues.append(CatalogIssue(NAME, path, "no libraries/dependencies object"))
                continue
            result.issues.extend(CatalogIssue(NAME, path, msg) for msg in bad)
            pm = "DOTNET_CORE" if path.endswith(".deps.json") else "NUGET"
            for name, version, meta in found:
                result.packages.append(lang_package(name, version, NUGET, make_purl(NUGET, name, version), NAME,
                                                    path, pm, **meta))
        return result


def _valid(name: str, version: str) -> bool:
    return bool(_ID.match(name)) and bool(_VERSION.match(version))


def _deps_json(doc: dict[str, Any], bad: list[str]) -> list[tuple[str, str, dict[str, Any]]] | None:
    libs = doc.get("libraries")
    if not isinstance(libs, dict):
        return None
    out = []
    for key, lib in libs.items():
        if not isinstance(lib, dict):
            bad.append(f"library {key[:80]!r} is not an object")
            continue
        if lib.get("type") != "package":
            continue  # "project" (the app's own assemblies) and "reference" (the framework)
        name, _, version = key.partition("/")
        if not _valid(name, version):
            bad.append(f"library {key[:80]!r}: not <NuGet id>/<version>")
            continue
        out.append((name, version, {"sha512": lib.get("sha512") or None}))
    return out


def _packages_lock(doc: dict[str, Any], bad: list[str]) -> list[tuple[str, str, dict[str, Any]]] | None:
    frameworks = doc.get("dependencies")
    if not isinstance(frameworks, dict):
        return None
    seen: dict[tuple[str, str], list[str]] = {}
    for fw, deps in frameworks.items():
        if not isinstance(deps, dict):
            bad.append(f"{fw[:40]!r}: dependencies are not an object")
            continue
        for name, dep in deps.items():
            if not isinstance(dep, dict) or dep.get("type") == "Project":
                continue
            version = dep.get("resolved")
            if not isinstance(version, str) or not _valid(name, version):
                bad.append(f"{fw[:40]!r}: {name[:80]!r}: no valid NuGet id or resolved version")
                continue
            seen.setdefault((name, version), []).append(fw)
    return [(n, v, {"frameworks": fws}) for (n, v), fws in seen.items()]
