"""``vulnhound worker`` (a Celery worker running jobs from the broker) and ``vulnhound scheduler`` (the ticker
alone: due schedules → jobs, lost jobs re-submitted)."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from vulnhound.service.jobs.interface import JobContext

DATABASE = typer.Option(..., "--database-url", envvar="VULNHOUND_DATABASE_URL",
                        help="SQLAlchemy URL of the service store (PostgreSQL for more than one process).")
BROKER = typer.Option(..., "--broker", envvar="VULNHOUND_BROKER",
                      help="Celery broker: redis://127.0.0.1:6379/N or amqp://guest:guest@127.0.0.1:5672//")
KB = typer.Option(None, "--kb-db", "--db", envvar="VULNHOUND_DB", help="Knowledge base path or URL.")
QUEUE = typer.Option("vulnhound", "--queue", help="Broker queue name.")
LEASE = typer.Option(60.0, "--lease", help="Seconds a running job's lease lasts (renewed while it runs).")
MIRROR = typer.Option(None, "--mirror", help="Feed mirror that `db update` jobs import.")


def _context_factory(database_url: str, kb_db: str | None, lease: float, mirror: Path | None
                     ) -> Callable[[], JobContext]:
    def make() -> JobContext:
        from vulnhound.service.db.engine import create_engine
        from vulnhound.service.jobs.interface import JobContext, JobSettings
        from vulnhound.service.server import KnowledgeBaseIndex

        index = KnowledgeBaseIndex(kb_db)
        return JobContext(engine=create_engine(database_url), index=index, kb=index.knowledge_base,
                          settings=JobSettings(kb_db=kb_db, mirror=mirror, lease_seconds=lease))
    return make


def _open(database_url: str) -> None:
    """Fail fast (exit 2) on an unusable store, and migrate it once here rather than in every pool process."""
    from vulnhound.service.db.engine import StoreUnavailable, open_store

    try:
        open_store(database_url).dispose()
    except StoreUnavailable as exc:
        typer.echo(f"vulnhound: {exc}", err=True)
        raise typer.Exit(2) from None


def worker(
    database_url: str = DATABASE,
    broker: str = BROKER,
    kb_db: str | None = KB,
    concurrency: int = typer.Option(2, "--concurrency", "-c", help="Job processes (or threads with --pool)."),
    pool: str = typer.Option("prefork", "--pool", help="prefork (processes: CPU-bound matching scales) | threads | "
                                                       "solo"),
    queue: str = QUEUE,
    beat: bool = typer.Option(False, "--beat", help="Also run the scheduler ticker in this worker."),
    tick: float = typer.Option(5.0, "--tick", help="Seconds between scheduler ticks (with --beat)."),
    lease: float = LEASE,
    mirror: Path | None = MIRROR,
) -> None:
    """Run jobs (scans, re-evaluations, deliveries, db updates) submitted through the broker."""
    from celery.signals import worker_ready, worker_shutting_down

    from vulnhound.service.jobs.celery_exec import CeleryExecutor, install_context

    _open(database_url)
    factory = _context_factory(database_url, kb_db, lease, mirror)
    executor = CeleryExecutor(broker, queue)
    install_context(factory, executor)
    ticker: list[object] = []

    def start_ticker(**_: object) -> None:
        # After the pool forked its processes: the ticker's connections are never shared with a child.
        from vulnhound.service.jobs.scheduler import Ticker

        ctx = factory()
        ctx.executor = executor
        # A pool process forked later must not share (and close) the ticker's connections.
        os.register_at_fork(after_in_child=lambda: ctx.engine.dispose(close=False))
        ticker.append(Ticker(ctx, interval=tick, stale=max(4 * lease, 30.0)).start())

    def stop_ticker(**_: object) -> None:
        for t in ticker:
            t.stop()  # type: ignore[attr-defined]

    if beat:
        worker_ready.connect(start_ticker, weak=False)
        worker_shutting_down.connect(stop_ticker, weak=False)
    argv = ["worker", f"--concurrency={concurrency}", f"--pool={pool}", f"--queues={queue}", "--loglevel=INFO",
            "--without-gossip", "--without-mingle", f"--hostname=vulnhound-{os.getpid()}@%h"]
    executor.app.worker_main(argv)


def scheduler(
    database_url: str = DATABASE,
    broker: str = BROKER,
    kb_db: str | None = KB,
    queue: str = QUEUE,
    tick: float = typer.Option(5.0, "--tick", help="Seconds between ticks."),
    lease: float = LEASE,
) -> None:
    """Turn due schedules into jobs and re-submit lost ones (run one or more; each run is enqueued once)."""
    from vulnhound.service.jobs.celery_exec import CeleryExecutor
    from vulnhound.service.jobs.scheduler import Ticker

    _open(database_url)
    ctx = _context_factory(database_url, kb_db, lease, None)()
    CeleryExecutor(broker, queue, ctx)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    t = Ticker(ctx, interval=tick, stale=max(4 * lease, 30.0))
    typer.echo(f"vulnhound scheduler: ticking every {tick:g} s", err=True)
    try:
        while not stop.wait(tick):
            t.tick()
    except KeyboardInterrupt:
        pass


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("scheduler")(scheduler)
