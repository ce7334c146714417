"""``uv.lock``: every locked package except the project's own workspace members (virtual/editable sources).
Dev = reachable from a member only through its ``dev-dependencies`` groups."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vulnhound.catalogers.interface import CatalogResult, WantHints
from vulnhound.catalogers.python._common import pypi_package
from vulnhound.catalogers.python._lockfile import LockCataloger

_MEMBER_SOURCES = ("virtual", "editable")


def _refs(entry: dict[str, Any], *, dev: bool) -> Iterable[dict[str, Any]]:
    yield from entry.get("dependencies") or []
    for group in (entry.get("optional-dependencies") or {}).values():
        yield from group
    if dev:
        for group in (entry.get("dev-dependencies") or {}).values():
            yield from group


class UvLockCataloger(LockCataloger):
    name = "python-uv"
    hints = WantHints(basenames=frozenset({"uv.lock"}))
    basenames = frozenset({"uv.lock"})

    def parse(self, doc: dict[str, Any], path: str, out: CatalogResult) -> None:
        entries = self.tables(doc, "package")
        by_name: dict[str, list[int]] = {}
        for i, e in enumerate(entries):
            by_name.setdefault(str(e.get("name")), []).append(i)
        members = [i for i, e in enumerate(entries)
                   if any(k in (e.get("source") or {}) for k in _MEMBER_SOURCES)]

        def reach(dev: bool) -> set[int]:
            seen: set[int] = set(members)
            stack = list(members)
            while stack:
                cur = entries[stack.pop()]
                # Members' dev groups count; a dependency's own dev groups are never installed.
                for ref in _refs(cur, dev=dev and any(k in (cur.get("source") or {}) for k in _MEMBER_SOURCES)):
                    for j in by_name.get(str(ref.get("name")), []):
                        if "version" in ref and entries[j].get("version") != ref["version"]:
                            continue
                        if j not in seen:
                            seen.add(j)
                            stack.append(j)
            return seen

        prod = reach(dev=False) if members else set(range(len(entries)))
        for i, e in enumerate(entries):
            if i in members:
                continue
            name, version = e.get("name"), e.get("version")
            if not isinstance(name, str) or not isinstance(version, str):
                self.note(out, path, f"skipped package {name!r}: no version (source {e.get('source')})")
                continue
            meta: dict[str, Any] = {}
            source = e.get("source")
            if isinstance(source, dict) and "registry" not in source:
                meta["source"] = source
            out.packages.append(pypi_package(name, version, path, self.name, "PIP", dev=i not in prod,
                                             metadata=meta))
