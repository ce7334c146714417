"""``yarn.lock``: classic v1 (yarn's own line format) and berry v2+ (YAML with ``__metadata``).

One package per resolved name@version (several range headers share one entry). Aliases (``alias@npm:real@1``)
report the real name; workspace, link and portal entries are the project's own code and are left out. A yarn
lock does not say which packages are dev-only (that needs package.json), so none are marked dev.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from vulnhound.catalogers.interface import CatalogResult
from vulnhound.catalogers.npm._common import in_node_modules, npm_package, split_spec
from vulnhound.catalogers.python._common import FileCataloger
from vulnhound.inventory.model import CatalogIssue
from vulnhound.sources.interface import FileView

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_LOCAL_PROTOCOLS = ("workspace:", "link:", "portal:", "file:")


def _unquote(s: str) -> str:
    s = s.strip()
    return s[1:-1] if len(s) >= 2 and s[0] == s[-1] == '"' else s


def real_name(spec: str) -> str:
    """The package name a v1 header spec resolves to: "alias@npm:real@^1" → "real"."""
    name, rng = split_spec(spec)
    return split_spec(rng[4:])[0] if rng.startswith("npm:") else name


def parse_v1(text: str) -> Iterator[tuple[int, str, str | None]]:
    """(line number, first header spec, version or None) for every entry of a classic lock."""
    header: tuple[int, str] | None = None
    version: str | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            if header:
                yield header[0], header[1], version
            header, version = (number, _unquote(line.rstrip().rstrip(":").split(",")[0])), None
        elif header and line.startswith("  version") and not line.startswith("   "):
            version = _unquote(line.strip()[len("version"):])
    if header:
        yield header[0], header[1], version


class YarnLockCataloger(FileCataloger):
    name = "npm-yarn-lock"

    def wants(self, path: str) -> bool:
        return path.rsplit("/", 1)[-1] == "yarn.lock" and not in_node_modules(path)

    def parse_file(self, view: FileView, path: str, data: bytes, out: CatalogResult) -> None:
        text = data.decode("utf-8", errors="replace")
        seen: set[tuple[str, str]] = set()
        found = self._berry(text, path, out) if "__metadata:" in text else self._v1(text, path, out)
        for name, version, meta in found:
            if (name, version) not in seen:
                seen.add((name, version))
                out.packages.append(npm_package(name, version, path, self.name, "YARN", metadata=meta))

    def _issue(self, out: CatalogResult, path: str, msg: str, line: int | None = None, note: bool = True) -> None:
        out.issues.append(CatalogIssue(self.name, path, msg, offset=line, severity="note" if note else "error"))

    def _v1(self, text: str, path: str, out: CatalogResult) -> Iterator[tuple[str, str, dict[str, Any]]]:
        for line, spec, version in parse_v1(text):
            rng = split_spec(spec)[1]
            if rng.startswith(_LOCAL_PROTOCOLS):
                continue
            if not version:
                self._issue(out, path, f"malformed entry {spec!r}: no version", line, note=False)
                continue
            name = real_name(spec)
            meta: dict[str, Any] = {"alias": split_spec(spec)[0]} if name != split_spec(spec)[0] else {}
            yield name, version, meta

    def _berry(self, text: str, path: str, out: CatalogResult) -> Iterator[tuple[str, str, dict[str, Any]]]:
        try:
            doc = yaml.load(text, Loader=_LOADER)
        except yaml.YAMLError as exc:
            self._issue(out, path, f"malformed YAML: {exc}", note=False)
            return
        if not isinstance(doc, dict):
            self._issue(out, path, "malformed lock file: top level is not a mapping", note=False)
            return
        for key, entry in doc.items():
            if key == "__metadata" or not isinstance(entry, dict):
                continue
            resolution = str(entry.get("resolution") or str(key).split(",")[0].strip())
            name, ref = split_spec(resolution)
            if ref.startswith(_LOCAL_PROTOCOLS):
                continue
            version = entry.get("version")
            if version is None:
                self._issue(out, path, f"malformed entry {key!r}: no version", note=False)
                continue
            alias = split_spec(str(key).split(",")[0].strip())[0]
            yield name, str(version), ({"alias": alias} if alias != name else {})
