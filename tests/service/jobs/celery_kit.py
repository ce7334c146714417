"""Test kit for real Celery workers: a private PostgreSQL database, a knowledge base of the test advisories, and
``vulnhound worker`` subprocesses in their own process groups (so a test can SIGKILL one whole worker)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bench.pgtemp import temp_database

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BROKERS = {"redis": "redis://127.0.0.1:6379/7", "rabbitmq": "amqp://guest:guest@127.0.0.1:5672//"}


@contextmanager
def pg_database(prefix: str) -> Iterator[str]:
    with temp_database(prefix, PG_ADMIN, pytest.skip) as url:
        yield url


def build_kb(path: Path, data: Path) -> str:
    """A SQLite knowledge base holding the OSV records under ``data``."""
    from vulnhound.advisories.feeds.osv import parse_bytes
    from vulnhound.advisories.store import import_items, open_engine

    url = f"sqlite:///{path}"
    items = [i for f in sorted(data.iterdir()) if f.suffix in (".json", ".yaml")
             for i in parse_bytes(f.read_bytes(), f.name, "osv", f.name)]
    engine = open_engine(url)
    import_items(engine, "osv", items)
    engine.dispose()
    return url


def broker_reachable(broker: str) -> bool:
    from kombu import Connection

    try:
        with Connection(broker, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False


def delete_queue(broker: str, queue: str) -> None:
    from kombu import Connection

    with Connection(broker, connect_timeout=3) as conn:
        try:
            conn.default_channel.queue_delete(queue)
        except Exception:
            pass


class Worker:
    def __init__(self, args: list[str], log: Path, env: dict[str, str]) -> None:
        self.log = log
        exe = Path(sys.executable).with_name("vulnhound")
        with log.open("wb") as out:
            self.proc = subprocess.Popen([str(exe), "worker", *args], stdout=out, stderr=subprocess.STDOUT,
                                         env={**os.environ, **env}, start_new_session=True)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if b" ready." in self.log.read_bytes():
                return
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited: {self.log.read_text()[-3000:]}")
            time.sleep(0.1)
        raise AssertionError(f"worker not ready: {self.log.read_text()[-3000:]}")

    def owns(self, pid: int) -> bool:
        """Is ``pid`` this worker's main process or one of its pool processes?"""
        if pid == self.proc.pid:
            return True
        try:
            return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]) == self.proc.pid
        except (OSError, ValueError, IndexError):
            return False

    def kill(self) -> None:
        """SIGKILL the whole worker (main process and pool): a machine or container dying mid-job."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
