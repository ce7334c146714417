"""``yarn.lock``: classic v1 (yarn's own line format) and berry v2+ (YAML with ``__metadata``).

One package per resolved name@version (several range headers share one entry). Aliases (``alias@npm:real@1``)
report the real name; workspace, link and portal entries are the project's own code and are left out. The lock
does not say which packages are dev-only: with a package.json beside it, packages reachable only from its
``devDependencies`` are marked dev; without one, none are.
"""

from __future__ import annotations

import json
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from vulnhound.catalogers.interface import CatalogResult, WantHints
from vulnhound.catalogers.npm._common import in_node_modules, load_yaml, npm_package, split_spec
from vulnhound.catalogers.python._common import FileCataloger
from vulnhound.inventory.model import CatalogIssue
from vulnhound.sources.interface import FileView, ViewError

_LOCAL_PROTOCOLS = ("workspace:", "link:", "portal:", "file:")
_DEP_SECTIONS = ("dependencies", "optionalDependencies")
MAX_MANIFEST = 4 << 20


@dataclass(slots=True)
class Entry:
    """One lock entry: the range specs that resolve to it, what it resolves to, and the specs it depends on."""

    line: int | None
    specs: list[str]
    name: str
    version: str | None
    deps: list[str] = field(default_factory=list)
    local: bool = False


def _unquote(s: str) -> str:
    s = s.strip()
    return s[1:-1] if len(s) >= 2 and s[0] == s[-1] == '"' else s


def real_name(spec: str) -> str:
    """The package name a header spec resolves to: "alias@npm:real@^1" → "real"."""
    name, rng = split_spec(spec)
    return split_spec(rng[4:])[0] if rng.startswith("npm:") else name


def parse_v1(text: str) -> Iterator[Entry]:
    """Every entry of a classic lock: headers at column 0, fields at 2 spaces, dependency lines at 4."""
    cur: Entry | None = None
    section = ""
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if not line[0].isspace():
            if cur:
                yield cur
            specs = [_unquote(s) for s in line.rstrip().rstrip(":").split(",")]
            rng = split_spec(specs[0])[1]
            cur, section = Entry(number, specs, real_name(specs[0]), None, local=rng.startswith(_LOCAL_PROTOCOLS)), ""
        elif cur is None:
            continue
        elif not line.startswith("   "):
            key, _, value = line.strip().partition(" ")
            section = key.rstrip(":") if not value else ""
            if key == "version":
                cur.version = _unquote(value)
        elif section in _DEP_SECTIONS and not line.startswith("     "):
            dep, _, rng = line.strip().partition(" ")
            cur.deps.append(f"{_unquote(dep)}@{_unquote(rng)}")
    if cur:
        yield cur


def parse_berry(doc: dict[str, Any]) -> Iterator[Entry]:
    for key, entry in doc.items():
        if key == "__metadata" or not isinstance(entry, dict):
            continue
        specs = [s.strip() for s in str(key).split(",")]
        resolution = str(entry.get("resolution") or specs[0])
        name, ref = split_spec(resolution)
        version = entry.get("version")
        deps = [f"{dep}@{rng}" for section in _DEP_SECTIONS
                for dep, rng in (entry.get(section) or {}).items()]
        yield Entry(None, specs, name, None if version is None else str(version), deps,
                    local=ref.startswith(_LOCAL_PROTOCOLS))


def dev_only(entries: list[Entry], prod_roots: Iterable[str], dev_roots: Iterable[str]) -> set[int]:
    """Indexes of entries reachable from ``dev_roots`` but not from ``prod_roots`` (specs as in package.json)."""
    by_spec: dict[str, int] = {}
    for i, e in enumerate(entries):
        for spec in e.specs:
            by_spec[spec] = i

    def lookup(spec: str) -> int | None:
        name, rng = split_spec(spec)
        # Berry writes a bare range from package.json as "npm:<range>" in the lock.
        return by_spec.get(spec, by_spec.get(f"{name}@npm:{rng}"))

    def reach(roots: Iterable[str]) -> set[int]:
        seen: set[int] = set()
        stack = [i for i in map(lookup, roots) if i is not None]
        while stack:
            i = stack.pop()
            if i not in seen:
                seen.add(i)
                stack.extend(j for j in map(lookup, entries[i].deps) if j is not None)
        return seen

    return reach(dev_roots) - reach(prod_roots)


class YarnLockCataloger(FileCataloger):
    name = "npm-yarn-lock"
    hints = WantHints(basenames=frozenset({"yarn.lock"}))
    document = "lock file"

    def wants(self, path: str) -> bool:
        return path.rsplit("/", 1)[-1] == "yarn.lock" and not in_node_modules(path)

    def parse_file(self, view: FileView, path: str, data: bytes, out: CatalogResult) -> None:
        text = data.decode("utf-8", errors="replace")
        # Berry lock files are YAML and carry a __metadata block; v1 ones are yarn's own format.
        entries = list(parse_berry(load_yaml(text))) if "__metadata:" in text else list(parse_v1(text))
        dev = self._dev(view, path, entries)
        seen: set[tuple[str, str]] = set()
        for i, e in enumerate(entries):
            if e.local:
                continue
            if not e.version:
                out.issues.append(CatalogIssue(self.name, path, f"malformed entry {e.specs[0]!r}: no version",
                                               offset=e.line))
                continue
            if (e.name, e.version) in seen:
                continue  # berry lists a patched package twice (npm: and patch:); one install
            seen.add((e.name, e.version))
            alias = split_spec(e.specs[0])[0]
            meta = {"alias": alias} if alias != e.name else {}
            out.packages.append(npm_package(e.name, e.version, path, self.name, "YARN", dev=i in dev, metadata=meta))

    def _dev(self, view: FileView, path: str, entries: list[Entry]) -> set[int]:
        manifest = posixpath.join(posixpath.dirname(path), "package.json")
        try:
            doc = json.loads(view.read_bytes(manifest, MAX_MANIFEST))
        except (OSError, ViewError, ValueError):
            return set()
        if not isinstance(doc, dict):
            return set()

        def specs(section: str) -> list[str]:
            deps = doc.get(section)
            return [f"{n}@{r}" for n, r in deps.items()] if isinstance(deps, dict) else []

        # Other workspaces' dependencies count as production: their manifests are not read here.
        workspaces = [d for e in entries if e.local and not e.specs[0].endswith("@workspace:.") for d in e.deps]
        return dev_only(entries, [*specs("dependencies"), *specs("optionalDependencies"), *workspaces],
                        specs("devDependencies"))
