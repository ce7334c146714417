"""Knowledge-base benchmark: full ``--mirror`` import of ../shared/vulndata, no-change re-update, DB size, and the
matcher's batch lookup (10,000 package keys) against the full corpus, warm.

    .venv/bin/python -m bench.bench_kb [--mirror DIR] [--db PATH] [--keys 10000]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import sqlite3
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

from vulnhound.advisories.mirror import discover
from vulnhound.advisories.store import KnowledgeBase, open_engine
from vulnhound.advisories.store import tables as t
from vulnhound.advisories.store.update import update_from_mirror

REPO = Path(__file__).resolve().parents[1]


def _size(db: Path) -> int:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--mirror", type=Path, default=REPO.parent / "shared" / "vulndata")
    ap.add_argument("--db", type=Path, default=None, help="SQLite file (default: a fresh temporary one)")
    ap.add_argument("--keys", type=int, default=10_000)
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="bench-kb-")
    db = args.db or Path(tmp.name) / "kb.db"
    for p in db.parent.glob(db.name + "*"):
        p.unlink()

    engine = open_engine(str(db))
    # Wall time and this process's CPU time: on a shared, loaded machine the CPU time is the steadier figure.
    t0, c0 = time.perf_counter(), time.process_time()
    plan = discover(args.mirror)
    results = update_from_mirror(engine, args.mirror, plan=plan)
    full, full_cpu = time.perf_counter() - t0, time.process_time() - c0
    for r in results:
        print(f"  {r.source:32} {r.mode:9} records={r.counts.get('records', 0):6} rejects={r.counts.get('rejects', 0)}")
    with engine.connect() as conn:
        conn.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
    t0, c0 = time.perf_counter(), time.process_time()
    again = update_from_mirror(engine, args.mirror)
    reupdate, reupdate_cpu = time.perf_counter() - t0, time.process_time() - c0
    assert all(r.mode == "unchanged" for r in again), [r.mode for r in again]

    kb = KnowledgeBase(engine)
    with engine.connect() as conn:
        present = [(e, n) for e, n in conn.execute(sa.select(t.affected.c.ecosystem, t.affected.c.name).distinct())]
    rng = random.Random(7)
    hits = rng.sample(present, min(len(present), args.keys // 2))
    misses = [("PyPI", f"no-such-package-{i}") for i in range(args.keys - len(hits))]
    keys = hits + misses
    rng.shuffle(keys)
    t0, c0 = time.perf_counter(), time.process_time()
    kb.affected_for_many(keys)  # cold: decodes every row; warms the page cache, the pool and the decode cache
    cold, cold_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    got = kb.affected_for_many(keys)
    lookup, lookup_cpu = time.perf_counter() - t0, time.process_time() - c0
    rows = sum(len(v) for v in got.values())

    counts = kb.counts()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"SQLite {sqlite3.sqlite_version}, load average {os.getloadavg()[0]:.1f}")
    print(f"full mirror import: {full:.2f} s wall, {full_cpu:.2f} s CPU ({counts['vulns']} records, "
          f"{counts['affected']} affected rows, {counts['ids']} ids, {counts['kev']} KEV, {counts['rejects']} rejects, "
          f"{len(results)} sources)")
    print(f"no-change re-update: {reupdate:.2f} s wall, {reupdate_cpu:.2f} s CPU")
    print(f"DB size: {_size(db) / 1e6:.1f} MB")
    print(f"batch lookup, {len(keys)} keys ({len(hits)} present), {rows} affected rows: first call {cold:.3f} s wall "
          f"{cold_cpu:.3f} s CPU; warm {lookup:.3f} s wall, {lookup_cpu:.3f} s CPU")
    engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
