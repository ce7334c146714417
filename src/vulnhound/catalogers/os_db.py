"""Reading an OS package database (dpkg status, apk installed) for a cataloger: the text, or an issue saying why not."""

from __future__ import annotations

from vulnhound.catalogers.interface import CatalogContext, CatalogResult
from vulnhound.inventory.model import CatalogIssue
from vulnhound.sources.interface import FileView, ViewError


def read_db_text(view: FileView, path: str, ctx: CatalogContext, cataloger: str, result: CatalogResult) -> str | None:
    """The database as text (bad UTF-8 replaced), or None with a "cannot read" issue added to ``result``."""
    try:
        data = view.read_bytes(path, max_size=ctx.max_file_size)
    except (OSError, ViewError) as exc:
        # too big is a policy skip (note); unreadable loses every record in it (error)
        severity = "note" if isinstance(exc, ViewError) else "error"
        result.issues.append(CatalogIssue(cataloger, path, f"cannot read: {exc}", severity=severity))
        return None
    return data.decode("utf-8", errors="replace")
