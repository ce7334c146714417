"""Installed npm packages: ``node_modules/<name>/package.json`` and ``node_modules/@scope/<name>/package.json``
at any depth (every nested copy counts, pnpm's ``.pnpm`` store included), and the distro's system module
directories (``usr/share/nodejs/<name>/package.json``).

A project directory whose lock file (package-lock, shrinkwrap, yarn.lock, pnpm-lock) sits beside
``node_modules`` is left to the lock-file catalogers, which know dev flags and, for npm locks, check each entry
against ``node_modules``; the installed tree is read only where no lock covers it (function zips, images that
copied node_modules alone). The root project's own package.json is not under node_modules and never counted.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Sequence
from typing import Any

from vulnhound.catalogers.interface import CatalogContext, CatalogResult, WantHints
from vulnhound.catalogers.npm._common import LOCK_NAMES, npm_package
from vulnhound.catalogers.python._common import FileCataloger
from vulnhound.sources.interface import FileView

# Distro Node.js module directories (Debian's node-* packages install there; Debian's node resolves modules from
# them as from a global node_modules). Their packages are OS-owned, so the matcher uses the distro's advisories.
SYSTEM_MODULE_DIRS = ("usr/share/nodejs/", "usr/lib/nodejs/")


def wants_manifest(path: str) -> bool:
    if not path.endswith("/package.json"):
        return False
    parts = path.split("/")
    if "node_modules" in parts:
        i = len(parts) - 1 - parts[::-1].index("node_modules")
    elif path.startswith(SYSTEM_MODULE_DIRS):
        i = 2
    else:
        return False
    rest = parts[i + 1 : -1]
    return (len(rest) == 1 and not rest[0].startswith((".", "@"))) or (
        len(rest) == 2 and rest[0].startswith("@"))


def project_of(path: str) -> str:
    """The directory holding the outermost node_modules ("" for the root)."""
    head = path.split("node_modules/", 1)[0]
    return head.rstrip("/")


def licenses_of(doc: dict[str, Any]) -> tuple[str, ...]:
    lic = doc.get("license")
    if isinstance(lic, str):
        return (lic,)
    if isinstance(lic, dict) and isinstance(lic.get("type"), str):
        return (lic["type"],)
    old = doc.get("licenses")
    if isinstance(old, list):
        return tuple(x["type"] for x in old if isinstance(x, dict) and isinstance(x.get("type"), str))
    return ()


class NodeModulesCataloger(FileCataloger):
    name = "npm-installed"
    hints = WantHints(basenames=frozenset({"package.json"}))
    document = "package.json"

    def __init__(self, respect_locks: bool = True) -> None:
        self.respect_locks = respect_locks
        self._covered: dict[str, bool] = {}

    def wants(self, path: str) -> bool:
        return wants_manifest(path)

    def skip(self, view: FileView, path: str) -> bool:
        project = project_of(path)
        if project not in self._covered:
            self._covered[project] = self.respect_locks and any(
                view.exists(posixpath.join(project, n)) for n in LOCK_NAMES)
        return self._covered[project]

    def catalog(self, view: FileView, paths: Sequence[str], ctx: CatalogContext) -> CatalogResult:
        self._covered = {}  # per scan: project dir → whether a lock file sits beside its node_modules
        return super().catalog(view, paths, ctx)

    def parse_file(self, view: FileView, path: str, data: bytes, out: CatalogResult) -> None:
        doc = json.loads(data)
        if not isinstance(doc, dict) or not isinstance(doc.get("name"), str) or not doc.get("version"):
            raise ValueError("no name or version")
        out.packages.append(npm_package(doc["name"], str(doc["version"]), path, self.name, "NODEPKG",
                                        licenses=licenses_of(doc)))
