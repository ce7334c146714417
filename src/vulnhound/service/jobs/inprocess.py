"""The embedded executor: a thread pool in the server process. Jobs survive a crash anyway: their rows stay QUEUED
or RUNNING in the store and the server's sweeper re-submits them after the next start."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_futures

from vulnhound.service.jobs.interface import JobContext
from vulnhound.service.jobs.runner import run_job

log = logging.getLogger("vulnhound.jobs")


class InProcessExecutor:
    def __init__(self, ctx: JobContext, workers: int = 4) -> None:
        self.ctx = ctx
        self._pool = ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="vulnhound-job")
        self._timers: set[threading.Timer] = set()
        self._lock = threading.Lock()
        self._closed = False
        ctx.executor = self

    def _run(self, job_id: str) -> None:
        try:
            run_job(self.ctx, job_id)
        except Exception:  # the store is away: the job stays in its row and the sweeper re-submits it
            log.exception("job %s", job_id)

    def submit(self, job_id: str, delay: float = 0.0) -> None:
        with self._lock:
            if self._closed:
                return
            if delay <= 0:
                self._pool.submit(self._run, job_id)
                return
            timer = threading.Timer(delay, self._fire, args=(job_id,))
            timer.daemon = True
            self._timers.add(timer)
        timer.start()

    def submit_wait(self, job_id: str, timeout: float) -> None:
        """Submit and wait up to ``timeout`` seconds for this run (a request waiting for its scan; no polling)."""
        with self._lock:
            if self._closed:
                return
            future = self._pool.submit(self._run, job_id)
        wait_futures([future], timeout=timeout)

    def _fire(self, job_id: str) -> None:
        with self._lock:
            self._timers = {t for t in self._timers if t.is_alive() and t is not threading.current_thread()}
        self.submit(job_id)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            timers, self._timers = self._timers, set()
        for t in timers:
            t.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
