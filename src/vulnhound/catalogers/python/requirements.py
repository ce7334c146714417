"""pip requirements files (``*requirements*.txt``): exact pins (``==``/``===``) only, every other line reported.

``-r``/``--requirement`` includes are followed inside the view, except into files that are cataloged on their own
(they would be counted twice). Markers are kept, not evaluated: the target interpreter is unknown.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from vulnhound.catalogers.interface import CatalogContext, Cataloger, CatalogResult, WantHints
from vulnhound.catalogers.lockfile import read_limited
from vulnhound.catalogers.python._common import pypi_package
from vulnhound.inventory.model import CatalogIssue
from vulnhound.sources.interface import FileView, normalize

if TYPE_CHECKING:
    from packaging.requirements import Requirement

# "--hash=sha256:…" and other per-requirement options; pip allows them after the requirement.
_OPTION_TAIL = re.compile(r"\s--?[a-zA-Z][\w-]*(?:[=\s]\S+)?")
_COMMENT = re.compile(r"(^|\s)#.*$")
_INCLUDE = re.compile(r"^(?:-r|--requirement)(?:\s*=?\s*)(\S+)$")
MAX_INCLUDE_DEPTH = 10


# Requirement files shipped inside installed packages are their authors' build inputs, not what is installed.
_INSTALLED_TREES = ("site-packages/", "dist-packages/", "node_modules/")


def wants_requirements(path: str) -> bool:
    base = path.rsplit("/", 1)[-1]
    return base.endswith(".txt") and "requirements" in base and not any(t in path for t in _INSTALLED_TREES)


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(first line number, line) with backslash continuations joined and comments removed."""
    buf: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not buf:
            start = number
        line = _COMMENT.sub("", raw).rstrip()
        if line.endswith("\\"):
            buf.append(line[:-1])
            continue
        buf.append(line)
        joined = " ".join(part.strip() for part in buf).strip()
        buf = []
        if joined:
            yield start, joined
    if buf and (joined := " ".join(part.strip() for part in buf).strip()):
        yield start, joined


def pinned_version(req: Requirement) -> str | None:
    specs = list(req.specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        return specs[0].version
    return None


class RequirementsCataloger(Cataloger):
    name = "python-requirements"
    hints = WantHints(extensions=frozenset({".txt"}))

    def wants(self, path: str) -> bool:
        return wants_requirements(path)

    def catalog(self, view: FileView, paths: Sequence[str], ctx: CatalogContext) -> CatalogResult:
        out = CatalogResult()
        own = set(paths)  # grows with every included file: each file is read once per scan
        for path in paths:
            self._parse(view, path, ctx, out, own, [path])
        return out

    def _parse(self, view: FileView, path: str, ctx: CatalogContext, out: CatalogResult, own: set[str],
               chain: list[str]) -> None:
        data = read_limited(view, path, ctx, self.name, out)
        if data is None:
            return
        top = chain[0]

        def note(line: int, what: str) -> None:
            out.issues.append(CatalogIssue(self.name, path, what, offset=line, severity="note"))

        for line, text in logical_lines(data.decode("utf-8", errors="replace")):
            if text.startswith("-"):
                m = _INCLUDE.match(text)
                if m:
                    self._include(view, path, m.group(1), line, ctx, out, own, chain, note)
                else:
                    note(line, f"skipped option line {text.split()[0]!r}: not a requirement")
                continue
            spec = _OPTION_TAIL.sub("", " " + text).strip()
            from packaging.requirements import InvalidRequirement, Requirement  # deferred: heavy import

            try:
                req = Requirement(spec)
            except InvalidRequirement as exc:
                note(line, f"skipped {text[:80]!r}: not a PEP 508 requirement ({exc})")
                continue
            if req.url:
                note(line, f"skipped {req.name}: direct URL reference, no version")
                continue
            version = pinned_version(req)
            if version is None:
                note(line, f"skipped {req.name}{req.specifier}: not pinned with == (version unknown)")
                continue
            meta: dict[str, object] = {"line": line}
            if req.marker is not None:
                meta["marker"] = str(req.marker)
            if req.extras:
                meta["extras"] = sorted(req.extras)
            if path != top:
                meta["included_from"] = top
            pkg = pypi_package(req.name, version, path, self.name, "PIP", metadata=meta)
            out.packages.append(pkg)

    def _include(self, view: FileView, path: str, ref: str, line: int, ctx: CatalogContext, out: CatalogResult,
                 own: set[str], chain: list[str], note: Callable[[int, str], None]) -> None:
        target = normalize(posixpath.join(posixpath.dirname(path), ref))
        if target in chain or len(chain) > MAX_INCLUDE_DEPTH:
            note(line, f"skipped include {ref!r}: include loop or nesting too deep")
        elif target in own:
            return  # cataloged on its own or already included: following it again would count it twice
        elif not view.exists(target):
            note(line, f"skipped include {ref!r}: not in the scanned source")
        else:
            own.add(target)
            self._parse(view, target, ctx, out, own, [*chain, target])
