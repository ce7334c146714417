"""Job executors benchmark: N scan jobs re-matching stored snapshots (real Debian rootfs inventories, full shared
knowledge base) with the in-process executor (threads in one process) and with Celery workers (processes).

    .venv/bin/python -m bench.bench_workers [--db KB] [--jobs 100] [--workers 2] [--broker redis://127.0.0.1:6379/8]

A throw-away PostgreSQL database on 127.0.0.1 holds the store (dropped at the end). Every resource is scanned
once first (untimed, creates its findings), then each executor runs one rescan of every resource; the time is from
the first submit to the last job finished (worker start-up excluded). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from bench.pgtemp import service_store
from vulnhound.exports.inventory_json import to_wire
from vulnhound.inventory.build import build_inventory
from vulnhound.service.db.tables import jobs
from vulnhound.service.domain import inventories
from vulnhound.service.domain.accounts import bootstrap
from vulnhound.service.domain.common import Actor
from vulnhound.service.domain.resources import create as create_resource
from vulnhound.service.domain.scans import _insert
from vulnhound.service.jobs import store
from vulnhound.service.jobs.interface import JobContext
from vulnhound.service.server import KnowledgeBaseIndex
from vulnhound.sources.resolve import open_source

REPO = Path(__file__).resolve().parents[1]


def setup(engine: sa.Engine, n: int, target: str) -> tuple[str, list[str], str]:
    """(account, resource ids, snapshot digest): n hosts sharing one stored real inventory."""
    with engine.begin() as conn:
        bootstrap(conn)
        account = conn.exec_driver_sql("SELECT id FROM accounts WHERE name = 'default'").scalar_one()
    with open_source(target) as src:
        inv = inventories.parse(to_wire(build_inventory(src)))
    actor = Actor(account_id=account, key_id="bench", role="admin")
    with engine.begin() as conn:
        digest, _ = inventories.store(conn, account, inv)
        rids = [create_resource(conn, actor, "HOST", f"host-{i:05d}")["resourceId"] for i in range(n)]
    return account, rids, digest


def queue_scans(engine: sa.Engine, account: str, rids: list[str], digest: str, target: str | None = None
                ) -> list[str]:
    """One scan job per resource: re-match the stored snapshot, or (``target``) collect the target again."""
    actor = Actor(account_id=account, key_id="bench", role="admin")
    out = []
    with engine.begin() as conn:
        for rid in rids:
            sid = (_insert(conn, actor, rid, "TARGET", target, None) if target
                   else _insert(conn, actor, rid, "RESCAN", None, digest))
            out.append(store.enqueue(conn, "scan", {"scanId": sid, "accountId": account}))
    return out


def wait_all(engine: sa.Engine, ids: list[str], timeout: float = 3600) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            left = conn.execute(sa.select(sa.func.count()).select_from(jobs).where(
                jobs.c.id.in_(ids), jobs.c.status.in_(store.LIVE))).scalar()
        if not left:
            return
        time.sleep(0.05)
    raise SystemExit("jobs did not finish")


def check(engine: sa.Engine, ids: list[str]) -> None:
    with engine.connect() as conn:
        bad = conn.execute(sa.select(sa.func.count()).select_from(jobs).where(
            jobs.c.id.in_(ids), jobs.c.status != "SUCCEEDED")).scalar()
    if bad:
        raise SystemExit(f"{bad} jobs did not succeed")


def run_inprocess(ctx: JobContext, ids: list[str], threads: int) -> float:
    from vulnhound.service.jobs.inprocess import InProcessExecutor

    executor = InProcessExecutor(ctx, threads)
    t0 = time.perf_counter()
    for jid in ids:
        executor.submit(jid)
    wait_all(ctx.engine, ids)
    elapsed = time.perf_counter() - t0
    executor.close()
    return elapsed


def run_celery(url: str, kb: str, broker: str, ids: list[str], warm: list[str], workers: int,
               engine: sa.Engine) -> float:
    from vulnhound.service.jobs.celery_exec import CeleryExecutor

    queue = f"vh-bench-{os.getpid()}"
    procs, logs = [], []
    for i in range(workers):
        log = Path(tempfile.gettempdir()) / f"bench-worker-{os.getpid()}-{i}.log"
        logs.append(log)
        with log.open("wb") as out:
            procs.append(subprocess.Popen(
                [str(REPO / ".venv/bin/vulnhound"), "worker", "--database-url", url, "--broker", broker, "--kb-db", kb,
                 "--queue", queue, "--concurrency", "1"], stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True))
    try:
        for log in logs:
            while b" ready." not in log.read_bytes():
                time.sleep(0.1)
        executor = CeleryExecutor(broker, queue)
        for jid in warm:  # each process opens the knowledge base and imports the matcher once: not timed
            executor.submit(jid)
        wait_all(engine, warm)
        t0 = time.perf_counter()
        for jid in ids:
            executor.submit(jid)
        wait_all(engine, ids)
        elapsed = time.perf_counter() - t0
        executor.close()
        return elapsed
    finally:
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            p.wait(timeout=30)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", default=None, help="knowledge base (default: build one from ../shared/vulndata)")
    ap.add_argument("--jobs", type=int, default=100)
    ap.add_argument("--workers", type=int, default=2, help="in-process threads and Celery worker processes")
    ap.add_argument("--broker", default="redis://127.0.0.1:6379/8")
    ap.add_argument("--target", default=f"dir:{REPO / '.targets/debian-rootfs'}")
    ap.add_argument("--collect", action="store_true", help="jobs collect the target again (server-side rescans) "
                                                             "instead of re-matching the stored snapshot")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="bench-workers-")
    kb = args.db
    if kb is None:
        kb = str(Path(tmp.name) / "kb.db")
        subprocess.run([str(REPO / ".venv/bin/vulnhound"), "db", "update", "--mirror",
                        str(REPO.parent / "shared" / "vulndata"), "--db", kb, "-q"], check=True)
    with service_store("postgresql", Path(tmp.name), "vh_bench_workers") as engine:
        url = engine.url.render_as_string(hide_password=False)
        account, rids, digest = setup(engine, args.jobs, args.target)
        index = KnowledgeBaseIndex(kb)
        ctx = JobContext(engine=engine, index=index, kb=index.knowledge_base)

        again = args.target if args.collect else None
        first = queue_scans(engine, account, rids, digest)
        t_first = run_inprocess(ctx, first, args.workers)  # creates the findings; not compared
        check(engine, first)
        ids = queue_scans(engine, account, rids, digest, again)
        t_in = run_inprocess(ctx, ids, args.workers)
        check(engine, ids)
        warm = queue_scans(engine, account, rids[:4 * args.workers], digest, again)
        ids = queue_scans(engine, account, rids, digest, again)
        t_cel = run_celery(url, kb, args.broker, ids, warm, args.workers, engine)
        check(engine, ids)
        load = os.getloadavg()
        with engine.connect() as conn:
            pkgs = conn.exec_driver_sql("SELECT packages FROM inventories LIMIT 1").scalar()
        what = "collect + match" if args.collect else "re-match snapshot"
        print(f"| executor | {args.jobs} rescans ({what}, {pkgs} packages each) | jobs/s |")
        print("|---|---:|---:|")
        print(f"| in-process, {args.workers} threads (first scans, untimed baseline) | {t_first:.1f} s | "
              f"{args.jobs / t_first:.1f} |")
        print(f"| in-process, {args.workers} threads | {t_in:.1f} s | {args.jobs / t_in:.1f} |")
        print(f"| Celery, {args.workers} worker processes ({args.broker.split(':')[0]}) | {t_cel:.1f} s | "
              f"{args.jobs / t_cel:.1f} |")
        print(f"\nspeed-up {t_in / t_cel:.2f}x; {os.cpu_count()} CPUs; load average {load[0]:.2f} {load[1]:.2f} "
              f"{load[2]:.2f}; Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
