"""``poetry.lock``: every ``[[package]]``; dev when the lock says so (``category = "dev"`` in old locks,
``groups`` without "main" in lock 2.1). Lock 2.0 records no groups, so its packages are not marked dev."""

from __future__ import annotations

from typing import Any

from vulnhound.catalogers.interface import CatalogResult, WantHints
from vulnhound.catalogers.python._common import pypi_package
from vulnhound.catalogers.python._lockfile import LockCataloger


class PoetryLockCataloger(LockCataloger):
    name = "python-poetry"
    hints = WantHints(basenames=frozenset({"poetry.lock"}))
    basenames = frozenset({"poetry.lock"})

    def parse(self, doc: dict[str, Any], path: str, out: CatalogResult) -> None:
        for i, entry in enumerate(self.tables(doc, "package")):
            name, version = entry.get("name"), entry.get("version")
            if not isinstance(name, str) or not isinstance(version, str) or not version:
                self.note(out, path, f"skipped package #{i}: no name or version")
                continue
            groups = entry.get("groups")
            dev = "main" not in groups if isinstance(groups, list) and groups else entry.get("category") == "dev"
            meta: dict[str, Any] = {}
            source = entry.get("source")
            if isinstance(source, dict) and source.get("type"):
                meta["source"] = {k: source[k] for k in ("type", "url", "reference") if k in source}
            if entry.get("optional"):
                meta["optional"] = True
            out.packages.append(pypi_package(name, version, path, self.name, "POETRY", dev=dev, metadata=meta))
