"""Assemble and run the server: open (and migrate) the store, print the first admin key once, serve with uvicorn."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from vulnhound.matching.index import AdvisoryIndex


class KnowledgeBaseEmpty(Exception):
    pass


class KnowledgeBaseIndex:
    """Opens the knowledge base on first use (not at start: the server runs before the first ``db update``)."""

    def __init__(self, db: str | None) -> None:
        self.db = db
        self._kb: object | None = None
        self._lock = threading.Lock()

    def __call__(self) -> AdvisoryIndex:
        from vulnhound.advisories.store import open_kb
        from vulnhound.advisories.store.query import KnowledgeBase
        from vulnhound.matching.index import StoreIndex

        with self._lock:
            if self._kb is None:
                self._kb = open_kb(self.db)
        assert isinstance(self._kb, KnowledgeBase)
        # An empty knowledge base would "close" every finding of the resource: fail the scan instead.
        if not any(s.record_count for s in self._kb.status()):
            raise KnowledgeBaseEmpty("the knowledge base has no advisories: run `vulnhound db update` on the server")
        return StoreIndex(self._kb)  # one per scan: StoreIndex caches per use


@dataclass(frozen=True)
class Built:
    app: FastAPI
    first_admin_key: str | None  # only on the very first start
    database: str


def build(database_url: str | None, kb_db: str | None = None, scan_roots: tuple[Path, ...] = (),
          max_upload: int | None = None) -> Built:
    """Raises StoreUnavailable (with a message for people) when the database cannot be used."""
    import sqlalchemy as sa

    from vulnhound.service.api.app import create_app
    from vulnhound.service.api.deps import DEFAULT_MAX_UPLOAD, Settings
    from vulnhound.service.db.engine import default_url, open_store
    from vulnhound.service.domain.accounts import bootstrap

    url = database_url or default_url()
    engine = open_store(url)
    with engine.begin() as conn:
        token = bootstrap(conn)
    settings = Settings(engine=engine, index=KnowledgeBaseIndex(kb_db), scan_roots=scan_roots,
                        max_upload=max_upload or DEFAULT_MAX_UPLOAD)
    shown = sa.engine.make_url(url).render_as_string(hide_password=True)
    return Built(create_app(settings), token, shown)
