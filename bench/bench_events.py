"""Webhook delivery throughput: events/s signed and POSTed to a local receiver, with 1 and 4 webhooks.

    .venv/bin/python -m bench.bench_events [--events 5000] [--subjects 200] [--webhooks 1 4]
                                            [--database-url URL] [--concurrency 4] [--batch 32]

The receiver is a separate process (a threaded http.server answering 204) so it does not share the GIL with the
sender. Each run uses a fresh store (SQLite in a temp dir unless --database-url names a PostgreSQL server; a
database ``vh_bench_events_<pid>`` is created there and dropped). Emitting is timed apart from delivery; the
delivery time includes the fan-out. Results are printed as a Markdown table with the machine load.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from bench.pgtemp import PG_ADMIN, service_store
from vulnhound.service.domain.accounts import authenticate, bootstrap
from vulnhound.service.events import webhooks
from vulnhound.service.events.delivery import DeliveryConfig, deliver_once
from vulnhound.service.events.outbox import emit_many, event_row

RECEIVER = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
s = ThreadingHTTPServer(("127.0.0.1", 0), H)
s.daemon_threads = True
print(s.server_address[1], flush=True)
s.serve_forever()
"""


@contextmanager
def receiver() -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-c", RECEIVER], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield f"http://127.0.0.1:{port}/hook"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def store(database_url: str | None) -> Iterator[sa.Engine]:
    kind = "postgresql" if database_url else "sqlite"
    with tempfile.TemporaryDirectory(prefix="vh-bench-events-") as tmp, \
            service_store(kind, Path(tmp), "vh_bench_events", database_url or PG_ADMIN) as engine:
        yield engine


def run(n_events: int, n_subjects: int, n_hooks: int, database_url: str | None, cfg: DeliveryConfig
        ) -> dict[str, float]:
    with store(database_url) as engine, receiver() as url:
        with engine.begin() as conn:
            token = bootstrap(conn)
            assert token is not None
            who = authenticate(conn, token)
            assert who is not None
            for _ in range(n_hooks):
                webhooks.create(conn, who, url, "bench-secret-0123456789")
        t0 = time.perf_counter()
        with engine.begin() as conn:
            emit_many(conn, (event_row(who.account_id, "vulnhound.finding.updated", f"res-{i % n_subjects}",
                                       {"n": i, "severity": "HIGH", "title": "CVE-2024-0001 - openssl"})
                             for i in range(n_events)))
        emitted = time.perf_counter() - t0
        t0 = time.perf_counter()
        counts = deliver_once(engine, cfg, max_seconds=3600)
        took = time.perf_counter() - t0
        expected = n_events * n_hooks
        assert counts.delivered == expected, (counts.as_dict(), expected)
        return {"events": n_events, "webhooks": n_hooks, "emit_s": emitted, "deliver_s": took,
                "per_s": expected / took}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=int, default=5000)
    ap.add_argument("--subjects", type=int, default=200)
    ap.add_argument("--webhooks", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--database-url", default=None, help="postgresql+psycopg://user@host/postgres (admin URL)")
    ap.add_argument("--concurrency", type=int, default=DeliveryConfig.concurrency)
    ap.add_argument("--batch", type=int, default=DeliveryConfig.batch)
    args = ap.parse_args()
    cfg = DeliveryConfig(concurrency=args.concurrency, batch=args.batch, idle_exit=0.5)
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"load before: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}; "
          f"{os.cpu_count()} CPUs; {backend}; concurrency {cfg.concurrency}, batch {cfg.batch}")
    print("| webhooks | events | deliveries | emit (s) | deliver (s) | deliveries/s |")
    print("|---:|---:|---:|---:|---:|---:|")
    for hooks in args.webhooks:
        r = run(args.events, args.subjects, hooks, args.database_url, cfg)
        print(f"| {hooks} | {args.events} | {args.events * hooks} | {r['emit_s']:.2f} | {r['deliver_s']:.2f} | "
              f"{r['per_s']:.0f} |", flush=True)
    print(f"load after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
