"""Go source trees: ``go.mod`` requirements (direct and ``// indirect``) with ``replace`` directives applied.

``go.sum`` is read only in a directory without ``go.mod`` (Syft reads go.mod; go.sum also lists modules that
were merely considered during version selection). From go.sum only entries with a module zip hash count
(``/go.mod``-only lines are graph walking, not code in the build). A replacement by a local directory drops the
module, as Trivy does: its code is the local tree, not the published module.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence
from dataclasses import dataclass

from vulnhound.catalogers.golang.module import go_purl, valid_module_path
from vulnhound.catalogers.interface import CatalogContext, Cataloger, CatalogResult, WantHints
from vulnhound.catalogers.lockfile import lang_package, read_limited
from vulnhound.inventory.model import GOLANG, CatalogIssue
from vulnhound.sources.interface import FileView

NAME = "go-module"
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`|\S+')


@dataclass(slots=True)
class Require:
    path: str
    version: str
    indirect: bool
    line: int


class GoModCataloger(Cataloger):
    name = NAME
    hints = WantHints(basenames=frozenset({"go.mod", "go.sum"}))

    def wants(self, path: str) -> bool:
        # The module cache (GOPATH/pkg/mod) holds every dependency's own go.mod: requirements of requirements.
        return (path.endswith(("go.mod", "go.sum")) and path.rsplit("/", 1)[-1] in ("go.mod", "go.sum")
                and "pkg/mod/" not in path)

    def catalog(self, view: FileView, paths: Sequence[str], ctx: CatalogContext) -> CatalogResult:
        result = CatalogResult()
        mods = {posixpath.dirname(p) for p in paths if p.endswith("go.mod")}
        for path in paths:
            is_mod = path.endswith("go.mod")
            if not is_mod and posixpath.dirname(path) in mods:
                continue
            data = read_limited(view, path, ctx, NAME, result)
            if data is None:
                continue
            text = data.decode("utf-8", errors="replace")
            if is_mod:
                self._gomod(text, path, result)
            else:
                self._gosum(text, path, result)
        return result

    def _gomod(self, text: str, path: str, result: CatalogResult) -> None:
        requires, replaces = parse_gomod(text, path, result)
        for req in requires:
            rep = replaces.get((req.path, req.version)) or replaces.get((req.path, ""))
            if rep is not None and not rep[1]:
                continue  # local directory replacement
            mod, ver = rep if rep is not None else (req.path, req.version)
            if not valid_module_path(mod) or not ver:
                result.issues.append(CatalogIssue(NAME, path, f"invalid module path {mod[:80]!r}", req.line))
                continue
            result.packages.append(lang_package(
                mod, ver, GOLANG, go_purl(mod, ver), NAME, path, "GOMOD", indirect=req.indirect or None,
                replaces=f"{req.path}@{req.version}" if rep is not None else None))

    def _gosum(self, text: str, path: str, result: CatalogResult) -> None:
        seen: set[tuple[str, str]] = set()
        for n, line in enumerate(text.splitlines(), 1):
            cols = line.split()
            if not cols:
                continue
            if len(cols) != 3 or not cols[2].startswith("h1:"):
                result.issues.append(CatalogIssue(NAME, path, f"malformed go.sum line: {line[:80]!r}", n))
                continue
            mod, ver = cols[0], cols[1]
            if ver.endswith("/go.mod") or (mod, ver) in seen:
                continue
            if not valid_module_path(mod):
                result.issues.append(CatalogIssue(NAME, path, f"invalid module path {mod[:80]!r}", n))
                continue
            seen.add((mod, ver))
            result.packages.append(lang_package(mod, ver, GOLANG, go_purl(mod, ver), NAME, path, "GOMOD",
                                                from_go_sum=True))


def parse_gomod(text: str, path: str, result: CatalogResult) -> tuple[list[Require], dict[tuple[str, str],
                                                                                          tuple[str, str]]]:
    """``require`` entries and ``replace`` directives ((old path, old version or "") → (new path, new version
    or "" for a directory)); bad lines become issues."""
    requires: list[Require] = []
    replaces: dict[tuple[str, str], tuple[str, str]] = {}
    block: str | None = None
    for n, raw in enumerate(text.splitlines(), 1):
        code, _, comment = raw.partition("//")
        indirect = comment.strip().startswith("indirect")
        toks = [t[1:-1] if t[0] in "\"`" else t for t in _TOKEN.findall(code)]
        if not toks:
            continue
        if block is not None:
            if toks == [")"]:
                block = None
                continue
            verb, args = block, toks
        elif len(toks) >= 2 and toks[1] == "(":
            block = toks[0]
            continue
        else:
            verb, args = toks[0], toks[1:]
        if verb == "require":
            if len(args) != 2:
                result.issues.append(CatalogIssue(NAME, path, f"malformed require: {raw.strip()[:80]!r}", n))
                continue
            requires.append(Require(args[0], args[1], indirect, n))
        elif verb == "replace":
            if "=>" not in args:
                result.issues.append(CatalogIssue(NAME, path, f"malformed replace: {raw.strip()[:80]!r}", n))
                continue
            i = args.index("=>")
            old, new = args[:i], args[i + 1 :]
            if len(old) not in (1, 2) or len(new) not in (1, 2):
                result.issues.append(CatalogIssue(NAME, path, f"malformed replace: {raw.strip()[:80]!r}", n))
                continue
            replaces[(old[0], old[1] if len(old) == 2 else "")] = (new[0], new[1] if len(new) == 2 else "")
    if block is not None:
        result.issues.append(CatalogIssue(NAME, path, f"unterminated {block} block"))
    return requires, replaces
