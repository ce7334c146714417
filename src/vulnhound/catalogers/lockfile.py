"""Helpers shared by the language catalogers (Go, Java, Ruby, Rust, PHP, .NET, Python, npm): bounded reads that turn
problems into CatalogIssues, one way to build a language Package, and a summary used by tests and debugging."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from vulnhound.catalogers.interface import CatalogContext, Cataloger, CatalogResult
from vulnhound.inventory.model import CatalogIssue, Location, Package
from vulnhound.sources.interface import FileView, ViewError


def is_symlink(view: FileView, path: str) -> bool:
    """Symlinked copies (``foo.jar -> foo-1.2.jar``) would report the same package twice: read the target only."""
    meta = view.meta(path)
    return meta is not None and meta.kind == "symlink"


def read_limited(view: FileView, path: str, ctx: CatalogContext, cataloger: str, result: CatalogResult,
                 limit: int | None = None) -> bytes | None:
    """The file's bytes, or None with a note (too big) or an error (unreadable) added to ``result``."""
    limit = ctx.max_file_size if limit is None else limit
    meta = view.meta(path)
    if meta is not None and meta.kind == "file" and meta.size > limit:
        result.issues.append(CatalogIssue(cataloger, path, f"skipped: {meta.size} bytes is over the {limit}-byte limit",
                                          severity="note"))
        return None
    try:
        return view.read_bytes(path, limit)
    except ViewError as exc:  # grew past the limit since meta(), or a link leading nowhere readable
        result.issues.append(CatalogIssue(cataloger, path, f"skipped: {exc}", severity="note"))
    except (OSError, RuntimeError, ValueError, EOFError) as exc:  # zip members can raise these (CRC, encryption)
        result.issues.append(CatalogIssue(cataloger, path, f"unreadable: {exc}"))
    return None


NO_DOC: Any = object()  # load_json's "nothing usable" (None, false, 0 are valid JSON documents)


def load_json(view: FileView, path: str, ctx: CatalogContext, cataloger: str, result: CatalogResult) -> Any:
    """The parsed JSON document (a UTF-8 BOM tolerated), or ``NO_DOC`` with an issue added to ``result``.
    Nesting too deep for the parser (a hostile file) is reported like any other syntax error."""
    data = read_limited(view, path, ctx, cataloger, result)
    if data is None:
        return NO_DOC
    try:
        return json.loads(data.decode("utf-8-sig", errors="replace"))
    except (ValueError, RecursionError) as exc:
        result.issues.append(CatalogIssue(cataloger, path, f"not JSON: {exc!s:.200}"))
    return NO_DOC


def lang_package(name: str, version: str, type: str, purl: str, found_by: str, path: str, package_manager: str,
                 dev: bool = False, **metadata: Any) -> Package:
    """A language package located at ``path``; metadata entries that are None are left out."""
    return Package(name=name, version=version, type=type, purl=purl, found_by=found_by,
                   locations=[Location(path)], package_manager=package_manager, dev=dev,
                   metadata={k: v for k, v in metadata.items() if v is not None})


def summarize(packages: list[Package]) -> list[list[Any]]:
    """(name, version, type, purl, dev) rows, sorted: the shape of the checked-in expected outputs."""
    return sorted([p.name, p.version, p.type, p.purl, p.dev] for p in packages)


def summarize_dir(root: str, catalogers: Sequence[Cataloger], max_file_size: int | None = None) -> dict[str, Any]:
    """Run ``catalogers`` over a directory: sorted package rows and (path, severity) of every issue.
    The test cases' expected.json files hold exactly this."""
    from vulnhound.inventory.build import catalog_view
    from vulnhound.sources.directory import DirView

    ctx = CatalogContext() if max_file_size is None else CatalogContext(max_file_size=max_file_size)
    inv = catalog_view(DirView(root), catalogers, ctx)
    return {"packages": summarize(inv.packages), "issues": sorted([i.path, i.severity] for i in inv.issues)}


def dump_summary(summary: dict[str, Any]) -> str:
    """JSON with one row per line, so that expected outputs read (and diff) well."""
    parts = []
    for key, rows in summary.items():
        body = ",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in rows)
        parts.append(f' "{key}": [\n{body}\n ]' if rows else f' "{key}": []')
    return "{\n" + ",\n".join(parts) + "\n}\n"
