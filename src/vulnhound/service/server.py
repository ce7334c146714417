"""Assemble and run the server: open (and migrate) the store, print the first admin key once, serve with uvicorn."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import FastAPI

from vulnhound.matching.index import AdvisoryIndex

if TYPE_CHECKING:
    from vulnhound.advisories.store.query import KnowledgeBase


class KnowledgeBaseEmpty(Exception):
    pass


class KnowledgeBaseIndex:
    """Opens the knowledge base on first use (not at start: the server runs before the first ``db update``)."""

    def __init__(self, db: str | None) -> None:
        self.db = db
        self._kb: object | None = None
        self._lock = threading.Lock()

    def __call__(self) -> AdvisoryIndex:
        from vulnhound.matching.index import StoreIndex

        kb = self.knowledge_base()
        # An empty knowledge base would "close" every finding of the resource: fail the scan instead.
        if not any(s.record_count for s in kb.status()):
            raise KnowledgeBaseEmpty("the knowledge base has no advisories: run `vulnhound db update` on the server")
        return StoreIndex(kb)  # one per scan: StoreIndex caches per use

    def knowledge_base(self) -> KnowledgeBase:
        """The knowledge base itself (for ``db update`` jobs), empty or not."""
        from vulnhound.advisories.store import open_kb
        from vulnhound.advisories.store.query import KnowledgeBase

        with self._lock:
            if self._kb is None:
                self._kb = open_kb(self.db)
        assert isinstance(self._kb, KnowledgeBase)
        return self._kb


@dataclass(frozen=True)
class Built:
    app: FastAPI
    first_admin_key: str | None  # only on the very first start
    database: str
    start_jobs: Callable[[], None] = field(default=lambda: None)  # executor + scheduler ticker; the CLI calls them
    stop_jobs: Callable[[], None] = field(default=lambda: None)


def build(database_url: str | None, kb_db: str | None = None, scan_roots: tuple[Path, ...] = (),
          max_upload: int | None = None, broker: str | None = None, workers: int = 4,
          mirror: Path | None = None, queue: str = "vulnhound", nats: str | None = None) -> Built:
    """Raises StoreUnavailable (with a message for people) when the database cannot be used."""
    import sqlalchemy as sa

    from vulnhound.service.api.app import create_app
    from vulnhound.service.api.deps import DEFAULT_MAX_UPLOAD, Settings
    from vulnhound.service.db.engine import default_url, open_store
    from vulnhound.service.domain.accounts import bootstrap
    from vulnhound.service.jobs.inprocess import InProcessExecutor
    from vulnhound.service.jobs.interface import Executor, JobContext, JobSettings
    from vulnhound.service.jobs.scheduler import Ticker
    from vulnhound.service.jobs.store import lost

    url = database_url or default_url()
    engine = open_store(url)
    with engine.begin() as conn:
        token = bootstrap(conn)
    index = KnowledgeBaseIndex(kb_db)
    ctx = JobContext(engine=engine, index=index, kb=index.knowledge_base,
                     settings=JobSettings(kb_db=kb_db, mirror=mirror))
    settings = Settings(engine=engine, index=index, scan_roots=scan_roots,
                        max_upload=max_upload or DEFAULT_MAX_UPLOAD, jobs=ctx)
    shown = sa.engine.make_url(url).render_as_string(hide_password=True)
    running: list[Executor | Ticker] = []
    stop_events: list[Callable[[], None]] = []

    def start_jobs() -> None:
        # In-process threads by default; with a broker, `vulnhound worker` processes run the jobs.
        executor: Executor
        if broker:
            from vulnhound.service.jobs.celery_exec import CeleryExecutor

            executor = CeleryExecutor(broker, queue, ctx)
        else:
            executor = InProcessExecutor(ctx, workers)
            # This process is the only executor: what a previous run left queued (or running) is picked up now.
            for jid in lost(engine, stale_seconds=0):
                executor.submit(jid)
        running[:] = [executor, Ticker(ctx).start()]
        from vulnhound.service.events.runner import start_events

        stop_events[:] = [start_events(engine, nats)]  # webhook delivery; NATS publishing with --nats

    def stop_jobs() -> None:
        for stop in stop_events:
            stop()
        stop_events.clear()
        for part in reversed(running):
            part.stop() if isinstance(part, Ticker) else part.close()
        running.clear()

    return Built(create_app(settings), token, shown, start_jobs, stop_jobs)
