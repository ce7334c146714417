"""PEP 751 ``pylock.toml`` / ``pylock.<name>.toml``: every ``[[packages]]`` entry with a version (VCS, directory
and archive entries may have none and are reported as skipped). Markers are kept, not evaluated."""

from __future__ import annotations

from typing import Any

from vulnhound.catalogers.interface import CatalogResult, WantHints
from vulnhound.catalogers.python._common import pypi_package
from vulnhound.catalogers.python._lockfile import LockCataloger


class PylockCataloger(LockCataloger):
    name = "python-pylock"
    hints = WantHints(extensions=frozenset({".toml"}))

    def wants(self, path: str) -> bool:
        base = path.rsplit("/", 1)[-1]
        return base == "pylock.toml" or (base.startswith("pylock.") and base.endswith(".toml"))

    def parse(self, doc: dict[str, Any], path: str, out: CatalogResult) -> None:
        for i, entry in enumerate(self.tables(doc, "packages")):
            name, version = entry.get("name"), entry.get("version")
            if not isinstance(name, str):
                self.note(out, path, f"skipped packages[{i}]: no name")
                continue
            if not isinstance(version, str):
                kind = next((k for k in ("vcs", "directory", "archive", "sdist") if k in entry), "unknown")
                self.note(out, path, f"skipped {name}: {kind} entry without a version")
                continue
            meta: dict[str, Any] = {}
            if entry.get("marker"):
                meta["marker"] = entry["marker"]
            # Groups show only through markers ("'dev' in dependency_groups"); no group → default install.
            dev = "dependency_groups" in str(entry.get("marker", "")) and "'dev'" in str(entry.get("marker", ""))
            out.packages.append(pypi_package(name, version, path, self.name, "PIP", dev=dev, metadata=meta))
