"""``package-lock.json`` / ``npm-shrinkwrap.json``, v1 (nested ``dependencies``) and v2/v3 (``packages``).

Every install location counts, so nested duplicates appear once per copy. Aliased entries report the real
package name; ``link`` entries report the linked workspace package. Dev/optional flags mark, never drop.
When ``node_modules`` sits beside the lock (an installed project), v2/v3 entries that npm did not install
there (other-platform optional packages) are left out with a note: the set then equals ``npm ls --all``.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any

from vulnhound.catalogers.interface import CatalogResult
from vulnhound.catalogers.npm._common import in_node_modules, looks_like_version, npm_package, split_spec
from vulnhound.catalogers.python._common import FileCataloger
from vulnhound.sources.interface import FileView

NAMES = ("package-lock.json", "npm-shrinkwrap.json")


class PackageLockCataloger(FileCataloger):
    name = "npm-package-lock"
    document = "lock file"

    def wants(self, path: str) -> bool:
        return path.rsplit("/", 1)[-1] in NAMES and not in_node_modules(path)

    def parse_file(self, view: FileView, path: str, data: bytes, out: CatalogResult) -> None:
        doc = json.loads(data)
        if not isinstance(doc, dict):
            raise ValueError("top level is not an object")
        if isinstance(doc.get("packages"), dict):
            self._v2(view, doc["packages"], path, out)
        else:
            self._v1(doc.get("dependencies") or {}, path, out)

    def _v2(self, view: FileView, packages: dict[str, Any], path: str, out: CatalogResult) -> None:
        project = posixpath.dirname(path)
        installed = view.exists(posixpath.join(project, "node_modules"))
        skipped_uninstalled = 0
        for key, entry in packages.items():
            if key == "" or not isinstance(entry, dict):
                continue  # the root project itself is not a dependency
            if "node_modules/" not in key and not key.startswith("node_modules"):
                continue  # a workspace folder: reported through the link entry that points at it
            name = key.rsplit("node_modules/", 1)[-1]
            meta: dict[str, Any] = {"lock_path": key}
            if entry.get("link"):
                target = packages.get(str(entry.get("resolved", "")), {})
                version = target.get("version") if isinstance(target, dict) else None
                name = target.get("name", name) if isinstance(target, dict) else name
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
            if installed and not entry.get("link") and not view.exists(posixpath.join(project, key, "package.json")):
                skipped_uninstalled += 1
                continue
            for flag in ("optional", "devOptional", "peer", "inBundle", "extraneous"):
                if entry.get(flag):
                    meta[flag] = True
            lic = entry.get("license")
            out.packages.append(npm_package(name, version, path, self.name, "NPM",
                                            dev=bool(entry.get("dev") or entry.get("devOptional")),
                                            licenses=(lic,) if isinstance(lic, str) else (), metadata=meta))
        if skipped_uninstalled:
            self.note(out, path, f"left out {skipped_uninstalled} locked package(s) not installed in node_modules "
                                  "(optional or other-platform)")

    def _v1(self, deps: dict[str, Any], path: str, out: CatalogResult, parents: tuple[str, ...] = ()) -> None:
        for key, entry in deps.items():
            if not isinstance(entry, dict):
                continue
            version = str(entry.get("version", ""))
            name = key
            meta: dict[str, Any] = {"lock_path": "/".join((*parents, key))}
            if version.startswith("npm:"):
                name, version = split_spec(version[4:])
                meta["alias"] = key
            if not looks_like_version(version):
                self.note(out, path, f"skipped {meta['lock_path']}: version {version!r} is not a registry version")
            else:
                for flag in ("optional", "bundled"):
                    if entry.get(flag):
                        meta[flag] = True
                out.packages.append(npm_package(name, version, path, self.name, "NPM", dev=bool(entry.get("dev")),
                                                metadata=meta))
            nested = entry.get("dependencies")
            if isinstance(nested, dict):
                self._v1(nested, path, out, (*parents, key))
