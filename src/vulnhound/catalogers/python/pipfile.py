"""``Pipfile.lock``: the "default" and "develop" sections; "develop" entries are dev. Only ``==`` pins carry a
version; VCS and path entries are reported as skipped."""

from __future__ import annotations

from typing import Any

from vulnhound.catalogers.interface import CatalogResult, WantHints
from vulnhound.catalogers.python._common import pypi_package
from vulnhound.catalogers.python._lockfile import LockCataloger


class PipfileLockCataloger(LockCataloger):
    name = "python-pipenv"
    hints = WantHints(basenames=frozenset({"Pipfile.lock"}))
    basenames = frozenset({"Pipfile.lock"})
    decoder = "json"

    def parse(self, doc: dict[str, Any], path: str, out: CatalogResult) -> None:
        for section, dev in (("default", False), ("develop", True)):
            entries = doc.get(section) or {}
            if not isinstance(entries, dict):
                self.note(out, path, f"skipped section {section!r}: not an object")
                continue
            for name, entry in entries.items():
                version = entry.get("version") if isinstance(entry, dict) else None
                if not isinstance(version, str) or not version.startswith("=="):
                    kind = next((k for k in ("git", "path", "file", "editable") if isinstance(entry, dict)
                                 and k in entry), "no version")
                    self.note(out, path, f"skipped {section}/{name}: {kind} entry without an == version")
                    continue
                meta: dict[str, Any] = {}
                if isinstance(entry, dict) and entry.get("markers"):
                    meta["marker"] = entry["markers"]
                out.packages.append(pypi_package(name, version.lstrip("="), path, self.name, "PIPENV", dev=dev,
                                                 metadata=meta))
