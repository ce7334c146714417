"""Go binaries: the main module, every dependency module (replacements applied) and the toolchain as ``stdlib``,
read from the build info the linker embeds (ELF, PE, Mach-O) — the binary is never run.

Which files: ``executable.wants_executable`` (no-suffix names outside data directories, plus ``*.exe``), then the
first bytes must be an executable magic; only then are section headers read.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vulnhound.catalogers.executable import (
    ELF,
    EXECUTABLE_HINTS,
    MACHO,
    PE,
    ExeError,
    find_section,
    open_executable,
    probe,
    unreadable_issue,
    wants_executable,
)
from vulnhound.catalogers.golang.buildinfo import SECTIONS, BuildInfo, Module, read_buildinfo
from vulnhound.catalogers.golang.module import go_purl, go_tag_to_semver, valid_module_path
from vulnhound.catalogers.interface import CatalogContext, Cataloger, CatalogResult
from vulnhound.catalogers.lockfile import lang_package
from vulnhound.inventory.model import GOLANG, CatalogIssue, Package
from vulnhound.sources.interface import FileView

NAME = "go-binary"
MIN_SIZE = 1024  # smaller than any linked Go program
DEVEL = "(devel)"  # the main module's version when built from a checkout without a release tag


class GoBinaryCataloger(Cataloger):
    name = NAME
    hints = EXECUTABLE_HINTS

    def wants(self, path: str) -> bool:
        return wants_executable(path)

    def catalog(self, view: FileView, paths: Sequence[str], ctx: CatalogContext) -> CatalogResult:
        result = CatalogResult()
        for path in paths:
            found = probe(view, path, ctx)
            if found.size < MIN_SIZE:
                continue
            if found.unreadable is not None:
                if issue := unreadable_issue(found, path, NAME):
                    result.issues.append(issue)
                continue
            fmt = found.fmt
            if fmt is None:
                continue
            if fmt in (ELF, MACHO) and found.sections and find_section(found.sections, *SECTIONS) is None:
                continue  # what read_buildinfo concludes too, without opening the file again
            try:
                with open_executable(view, path, ctx) as fh:
                    info = read_buildinfo(fh, fmt, ctx.max_file_size)
            except (ExeError, OSError) as exc:
                result.issues.append(CatalogIssue(NAME, path, f"Go build info unreadable: {exc}"))
                continue
            if info is None:
                continue
            if info.located_by == "scan" and fmt != PE:
                result.issues.append(CatalogIssue(NAME, path, "no section table (cut or stripped): build info "
                                                  "found by scanning", severity="note"))
            result.packages.extend(packages_of(info, path, result.issues))
        return result


def packages_of(info: BuildInfo, path: str, issues: list[CatalogIssue]) -> list[Package]:
    """stdlib, the main module and the dependencies of one binary; unusable module paths become issues."""
    arch = info.settings.get("GOARCH")
    out: list[Package] = []
    std = go_tag_to_semver(info.go_version)
    if std is not None:
        out.append(_pkg("stdlib", std, path, arch, go_version=info.go_version))
    if info.main is not None and info.main.path:
        version = info.main.version or DEVEL
        out.append(_pkg(info.main.path, version, path, arch, main=True, devel=version == DEVEL or None,
                        go_version=info.go_version, build=dict(info.settings) or None))
    for dep in info.deps:
        out.append(_dep(dep, path, arch))
    good = []
    for p in out:
        if p.name == "stdlib" or valid_module_path(p.name):
            good.append(p)
        else:
            issues.append(CatalogIssue(NAME, path, f"invalid module path {p.name[:80]!r} in build info"))
    return good


def _dep(dep: Module, path: str, arch: str | None) -> Package:
    rep = dep.replace
    # A local-directory replacement has no module identity of its own: keep the required module and say so.
    if rep is not None and rep.version not in ("", DEVEL) and not rep.path.startswith((".", "/")):
        return _pkg(rep.path, rep.version, path, arch, h1=rep.sum, replaces=f"{dep.path}@{dep.version}")
    return _pkg(dep.path, dep.version, path, arch, h1=dep.sum, replaced_by_dir=rep.path if rep else None)


def _pkg(module: str, version: str, path: str, arch: str | None, **metadata: Any) -> Package:
    purl = go_purl(module, None if version == DEVEL else version) if valid_module_path(module) else ""
    p = lang_package(module, version, GOLANG, purl, NAME, path, "GOBINARY", **metadata)
    p.arch = arch
    return p
