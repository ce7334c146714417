"""Knowledge-base benchmark: full ``--mirror`` import of ../shared/vulndata, no-change re-update, DB size, and the
matcher's batch lookup (10,000 package keys) against the full corpus, warm.

    .venv/bin/python -m bench.bench_kb [--mirror DIR] [--db PATH] [--keys 10000]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
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
    t0 = time.perf_counter()
    plan = discover(args.mirror)
    results = update_from_mirror(engine, args.mirror, plan=plan)
    full = time.perf_counter() - t0
    for r in results:
        print(f"  {r.source:32} {r.mode:9} records={r.counts.get('records', 0):6} rejects={r.counts.get('rejects', 0)}")
    with engine.connect() as conn:
        conn.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
    t0 = time.perf_counter()
    again = update_from_mirror(engine, args.mirror)
    reupdate = time.perf_counter() - t0
    assert all(r.mode == "unchanged" for r in again), [r.mode for r in again]

    kb = KnowledgeBase(engine)
    with engine.connect() as conn:
        present = [(e, n) for e, n in conn.execute(sa.select(t.affected.c.ecosystem, t.affected.c.name).distinct())]
    rng = random.Random(7)
    hits = rng.sample(present, min(len(present), args.keys // 2))
    misses = [("PyPI", f"no-such-package-{i}") for i in range(args.keys - len(hits))]
    keys = hits + misses
    rng.shuffle(keys)
    kb.affected_for_many(keys)  # warm the page cache and the connection pool
    t0 = time.perf_counter()
    got = kb.affected_for_many(keys)
    lookup = time.perf_counter() - t0
    rows = sum(len(v) for v in got.values())

    counts = kb.counts()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"SQLite {sa.__version__ and __import__('sqlite3').sqlite_version}")
    print(f"full mirror import: {full:.2f} s ({counts['vulns']} records, {counts['affected']} affected rows, "
          f"{counts['ids']} ids, {counts['kev']} KEV, {counts['rejects']} rejects)")
    print(f"no-change re-update: {reupdate:.2f} s")
    print(f"DB size: {_size(db) / 1e6:.1f} MB")
    print(f"batch lookup, {len(keys)} keys ({len(hits)} present): {lookup:.3f} s warm, {rows} affected rows")
    engine.dispose()
    tmp.cleanup()


if __name__ == "__main__":
    main()
