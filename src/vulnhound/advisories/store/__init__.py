"""The knowledge base: normalized advisories from every feed, alias groups, update operations, KEV/EPSS.

Each source's record is kept as (source, id). Ids and aliases (never ``related``) are merged by union-find into
vulnerability groups; a group's id is its CVE when it has exactly one, else the smallest id by the preference order
CVE, GHSA, PYSEC, GO, RUSTSEC, ... (``advisories/grouping.py``), so the same records always give the same group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from vulnhound.advisories.store.engine import open_engine, resolve_url
from vulnhound.advisories.store.query import AffectedRow, KnowledgeBase, Operation, SourceStatus

if TYPE_CHECKING:
    from vulnhound.advisories.store.importer import OperationResult, import_items


def __getattr__(name: str) -> Any:
    # The importer pulls in every feed's parser and HTTP client; a scan only reads, so it loads on first use.
    if name in ("OperationResult", "import_items"):
        from vulnhound.advisories.store import importer

        return getattr(importer, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_kb(db: str | None = None) -> KnowledgeBase:
    """Open (creating and migrating as needed) the knowledge base at ``db`` / ``VULNHOUND_DB`` / the default."""
    return KnowledgeBase(open_engine(db))


__all__ = [
    "AffectedRow",
    "KnowledgeBase",
    "Operation",
    "OperationResult",
    "SourceStatus",
    "import_items",
    "open_engine",
    "open_kb",
    "resolve_url",
]
