"""The Celery executor: messages carry only job ids over Redis or RabbitMQ; ``vulnhound worker`` consumes them.

Late acks + reject-on-worker-lost put a message back when its worker dies; the store's lease and the sweeper
cover what the broker cannot (a Redis message waits out its visibility timeout; the sweeper does not wait).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from celery import Celery

from vulnhound.service.jobs.interface import JobContext

TASK = "vulnhound.run_job"
DEFAULT_QUEUE = "vulnhound"

# The worker's context: built per process (after prefork's fork) from the factory the worker command installs.
_factory: Callable[[], JobContext] | None = None
_submitter: CeleryExecutor | None = None  # retries and follow-up jobs go back through the same broker
_contexts: dict[int, JobContext] = {}
_lock = threading.Lock()


def install_context(factory: Callable[[], JobContext], submitter: CeleryExecutor | None = None) -> None:
    global _factory, _submitter
    _factory, _submitter = factory, submitter
    _contexts.clear()


def _context() -> JobContext:
    pid = os.getpid()
    with _lock:
        ctx = _contexts.get(pid)
        if ctx is None:
            if _factory is None:
                raise RuntimeError("this process has no job context: start it with `vulnhound worker`")
            ctx = _contexts[pid] = _factory()
            if _submitter is not None:
                ctx.executor = _submitter
    return ctx


def make_app(broker: str, queue: str = DEFAULT_QUEUE, visibility_timeout: int = 3600) -> Celery:
    app = Celery("vulnhound", broker=broker, set_as_current=False)
    app.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_ignore_result=True,
        task_default_queue=queue,
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        # Redis only: an unacked message (its worker died) goes back to the queue after this many seconds.
        broker_transport_options={"visibility_timeout": visibility_timeout},
    )

    @app.task(name=TASK, acks_late=True, reject_on_worker_lost=True)  # type: ignore[untyped-decorator]
    def run(job_id: str) -> str:
        from vulnhound.service.jobs.runner import run_job

        return run_job(_context(), job_id)

    return app


class CeleryExecutor:
    """The submitting side (server, scheduler): sends job ids to the workers' queue."""

    def __init__(self, broker: str, queue: str = DEFAULT_QUEUE, ctx: JobContext | None = None) -> None:
        self.queue = queue
        self.app = make_app(broker, queue)
        self._lock = threading.Lock()  # kombu producers are not thread-safe
        if ctx is not None:
            ctx.executor = self

    def submit(self, job_id: str, delay: float = 0.0) -> None:
        kw: dict[str, Any] = {"countdown": delay} if delay > 0 else {}
        with self._lock:
            self.app.send_task(TASK, args=[job_id], queue=self.queue, **kw)

    def close(self) -> None:
        self.app.close()
