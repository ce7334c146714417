"""``package-lock.json`` / ``npm-shrinkwrap.json``, v1 (nested ``dependencies``) and v2/v3 (``packages``).

Every install location counts, so nested duplicates appear once per copy. Aliased entries report the real
package name; ``link`` entries report the linked workspace package. Dev/optional flags mark, never drop.
When ``node_modules`` sits beside the lock (an installed project), entries that were not installed there
(other-platform optional packages, dev ones omitted at install) are left out with a note: the set then equals
``npm ls --all``.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterator
from typing import Any

from vulnhound.catalogers.interface import CatalogResult, WantHints
from vulnhound.catalogers.npm._common import in_node_modules, looks_like_version, npm_package, split_spec
from vulnhound.catalogers.python._common import FileCataloger
from vulnhound.sources.interface import FileView

NAMES = ("package-lock.json", "npm-shrinkwrap.json")
# (install path under the project, real name, version, the lock entry, metadata)
Entry = tuple[str, str, str, dict[str, Any], dict[str, Any]]


class PackageLockCataloger(FileCataloger):
    name = "npm-package-lock"
    hints = WantHints(basenames=frozenset(NAMES))
    document = "lock file"

    def wants(self, path: str) -> bool:
        return path.rsplit("/", 1)[-1] in NAMES and not in_node_modules(path)

    def parse_file(self, view: FileView, path: str, data: bytes, out: CatalogResult) -> None:
        doc = json.loads(data)
        if not isinstance(doc, dict):
            raise ValueError("top level is not an object")
        packages = doc.get("packages")
        entries = self._v2(packages, path, out) if isinstance(packages, dict) else \
            self._v1(doc.get("dependencies") or {}, path, out)
        project = posixpath.dirname(path)
        installed = view.exists(posixpath.join(project, "node_modules"))
        left_out = 0
        for install_path, name, version, entry, meta in entries:
            if installed and not entry.get("link") and \
                    not view.exists(posixpath.join(project, install_path, "package.json")):
                left_out += 1
                continue
            for flag in ("optional", "devOptional", "peer", "inBundle", "bundled", "extraneous"):
                if entry.get(flag):
                    meta[flag] = True
            lic = entry.get("license")
            out.packages.append(npm_package(name, version, path, self.name, "NPM",
                                            dev=bool(entry.get("dev") or entry.get("devOptional")),
                                            licenses=(lic,) if isinstance(lic, str) else (), metadata=meta))
        if left_out:
            self.note(out, path, f"left out {left_out} locked package(s) not installed in node_modules "
                                 "(other-platform optional ones, or dev ones omitted at install)")

    def _v2(self, packages: dict[str, Any], path: str, out: CatalogResult) -> Iterator[Entry]:
        for key, entry in packages.items():
            if key == "" or not isinstance(entry, dict):
                continue  # the root project itself is not a dependency
            if not key.startswith("node_modules/") and "/node_modules/" not in key:
                continue  # a workspace folder: reported through the link entry that points at it
            name = key.rsplit("node_modules/", 1)[-1]
            meta: dict[str, Any] = {"lock_path": key}
            if entry.get("link"):
                target = packages.get(str(entry.get("resolved", "")))
                target = target if isinstance(target, dict) else {}
                version, name = target.get("version"), target.get("name", name)
                meta["link"] = entry.get("resolved")
            else:
                version = entry.get("version")
                if isinstance(entry.get("name"), str):
                    if entry["name"] != name:
                        meta["alias"] = name
                    name = entry["name"]
            if not isinstance(version, str) or not version:
                self.note(out, path, f"skipped {key}: no version")
                continue
            yield key, name, version, entry, meta

    def _v1(self, deps: dict[str, Any], path: str, out: CatalogResult, parent: str = "") -> Iterator[Entry]:
        for key, entry in deps.items():
            if not isinstance(entry, dict):
                continue
            install_path = f"{parent}node_modules/{key}"
            version = str(entry.get("version", ""))
            name = key
            meta: dict[str, Any] = {"lock_path": install_path}
            if version.startswith("npm:"):
                name, version = split_spec(version[4:])
                meta["alias"] = key
            if looks_like_version(version):
                yield install_path, name, version, entry, meta
            else:
                self.note(out, path, f"skipped {install_path}: version {version!r} is not a registry version")
            nested = entry.get("dependencies")
            if isinstance(nested, dict):
                yield from self._v1(nested, path, out, install_path + "/")
