"""``pnpm-lock.yaml`` v5 (``/name/1.0.0_peer``), v6 (``/name@1.0.0(peer)``) and v9 (``name@1.0.0`` with
``snapshots``). One package per ``packages`` entry; peer-dependency suffixes are not part of the version.
Dev: the entry's ``dev`` flag (v5/v6); in v9, reachable only from importers' ``devDependencies``."""

from __future__ import annotations

from typing import Any

from vulnhound.catalogers.interface import CatalogResult, WantHints
from vulnhound.catalogers.npm._common import in_node_modules, load_yaml, npm_package, split_spec
from vulnhound.catalogers.python._common import FileCataloger
from vulnhound.sources.interface import FileView


def parse_key(key: str, lock_version: float) -> tuple[str, str]:
    """(name, version) from a packages key of any lock version."""
    key = key.lstrip("/").split("(", 1)[0]
    if lock_version < 6:
        name, _, version = key.rpartition("/")
        return name, version.split("_", 1)[0]
    return split_spec(key)


def _dep_key(name: str, ref: str) -> str:
    """The snapshots key an importer or snapshot dependency points at ("1.0.0" or "real@1.0.0" for aliases)."""
    return ref if "@" in ref[1:] else f"{name}@{ref}"


def v9_prod_keys(doc: dict[str, Any]) -> set[str]:
    """Snapshot keys (peer suffix stripped) reachable from importers' non-dev dependencies."""
    snapshots = doc.get("snapshots") or {}
    stack: list[str] = []
    for imp in (doc.get("importers") or {}).values():
        for section in ("dependencies", "optionalDependencies"):
            for name, dep in ((imp or {}).get(section) or {}).items():
                ref = str(dep.get("version", "") if isinstance(dep, dict) else dep)
                if not ref.startswith("link:"):
                    stack.append(_dep_key(name, ref))
    seen: set[str] = set()
    while stack:
        key = stack.pop()
        if key in seen:
            continue
        seen.add(key)
        snap = snapshots.get(key) or {}
        for section in ("dependencies", "optionalDependencies"):
            for name, ref in (snap.get(section) or {}).items():
                stack.append(_dep_key(name, str(ref)))
    return {k.split("(", 1)[0] for k in seen}


class PnpmLockCataloger(FileCataloger):
    name = "npm-pnpm-lock"
    hints = WantHints(basenames=frozenset({"pnpm-lock.yaml"}))
    document = "lock file"

    def wants(self, path: str) -> bool:
        return path.rsplit("/", 1)[-1] == "pnpm-lock.yaml" and not in_node_modules(path)

    def parse_file(self, view: FileView, path: str, data: bytes, out: CatalogResult) -> None:
        self._parse(load_yaml(data), path, out)

    def _parse(self, doc: dict[str, Any], path: str, out: CatalogResult) -> None:
        lock_version = float(str(doc.get("lockfileVersion", "5")).split(".")[0] or 5)
        prod = v9_prod_keys(doc) if lock_version >= 9 else None
        for key, entry in (doc.get("packages") or {}).items():
            entry = entry if isinstance(entry, dict) else {}
            name, version = parse_key(str(key), lock_version)
            # Tarball and git entries are keyed by URL; they carry their own name and version.
            name = str(entry.get("name") or name)
            version = str(entry.get("version") or version)
            if not name or not version or "/" in version or ":" in version:
                self.note(out, path, f"skipped {key!r}: no registry name@version")
                continue
            dev = f"{name}@{version}" not in prod if prod is not None else bool(entry.get("dev"))
            meta = {"optional": True} if entry.get("optional") else {}
            out.packages.append(npm_package(name, version, path, self.name, "NPM", dev=dev, metadata=meta))
