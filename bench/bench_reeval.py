"""Re-evaluation benchmark: 10,000 stored resources, then a knowledge-base update touching 1 % of the package keys
those resources hold; times ``continuous.reevaluate.incremental`` (the in-process path) on SQLite and PostgreSQL.

    .venv/bin/python -m bench.bench_reeval [--resources 10000] [--percent 1] [--backend sqlite|postgresql|both]
                                           [--workers 1,2] [--vulndata ../shared/vulndata] [--full]

Inventories are synthesized from real PyPA package names and versions (the pypa-advisory-database records'
affected versions, one in ten, else the newest fix) plus this venv's installed distributions,
30-120 packages each, names drawn with a Zipf-like popularity so common packages sit on many resources;
10,000 resources share 2,500 distinct inventories (``--distinct``), as fleets share images. The knowledge base is
the whole PyPA database; the update modifies one record (adds a CVSS vector) of each touched key. Setup is not timed.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from bench.pgtemp import service_store
from vulnhound.advisories.store import open_kb
from vulnhound.advisories.store.query import KnowledgeBase
from vulnhound.advisories.store.update import update_from_mirror
from vulnhound.inventory.model import Inventory, Package, SourceInfo
from vulnhound.matching.index import StoreIndex
from vulnhound.matching.matcher import match_inventory
from vulnhound.service.continuous import keyindex
from vulnhound.service.continuous.cache import CachingIndex
from vulnhound.service.continuous.reevaluate import advance as set_cursor
from vulnhound.service.continuous.reevaluate import full, incremental
from vulnhound.service.db.tables import findings, jobs, resource_package_keys, resources
from vulnhound.service.domain import inventories
from vulnhound.service.domain.accounts import authenticate, bootstrap
from vulnhound.service.domain.common import new_id, now
from vulnhound.service.domain.lifecycle import columns, service_id
from vulnhound.service.server import KnowledgeBaseIndex

REPO = Path(__file__).resolve().parents[1]
VULNERABLE = 0.1  # share of packages at a vulnerable version
CRITICAL = [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}]


def _latest(versions: set[str]) -> str | None:
    from packaging.version import InvalidVersion, Version

    parsed = []
    for v in versions:
        try:
            parsed.append((Version(v), v))
        except InvalidVersion:
            continue
    return max(parsed)[1] if parsed else None


def pool(vulns: Path) -> list[tuple[str, list[str], list[str]]]:
    """(name, vulnerable versions, fixed versions) per package: PyPA's records, then this venv's distributions."""
    out = []
    for d in sorted(p for p in vulns.iterdir() if p.is_dir()):
        bad: set[str] = set()
        good: set[str] = set()
        for f in d.glob("*.yaml"):
            doc = yaml.safe_load(f.read_text())
            for aff in doc.get("affected") or []:
                bad.update(str(v) for v in aff.get("versions") or [])
                for r in aff.get("ranges") or []:
                    good.update(str(e["fixed"]) for e in r.get("events") or [] if "fixed" in e and r["type"] != "GIT")
        latest = _latest(good)  # the newest fix: not affected by any of these records (unless unfixed)
        if latest or bad:
            out.append((d.name, sorted(bad), [latest] if latest else []))
    held = {n for n, _, _ in out}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name and name.lower() not in held:
            held.add(name.lower())
            out.append((name, [], [dist.version]))
    return out


def inventory(rng: random.Random, names: list[tuple[str, list[str], list[str]]], weights: list[float],
              i: int) -> Inventory:
    k = rng.randint(30, 120)
    picked = {n[0]: n for n in rng.choices(names, weights, k=k)}
    pkgs = []
    for name, bad, good in picked.values():
        version = rng.choice(bad) if bad and (not good or rng.random() < VULNERABLE) else rng.choice(good or bad)
        pkgs.append(Package(name=name, version=version, type="pypi", purl=f"pkg:pypi/{name}@{version}",
                            found_by="bench", package_manager="PIP"))
    return Inventory(source=SourceInfo("dir", f"/srv/host-{i}"), packages=pkgs)


def populate(engine: sa.Engine, kb: KnowledgeBase, names: list[tuple[str, list[str], list[str]]], n: int,
             distinct: int, seed: int = 7) -> None:
    """``n`` resources over ``distinct`` inventories (fleets share images and host builds). Findings are written
    as a scan writes them (``lifecycle.columns``), matched once per distinct inventory; no history or events."""
    with engine.begin() as conn:
        token = bootstrap(conn)
        assert token is not None
        actor = authenticate(conn, token)
    assert actor is not None
    account = actor.account_id
    rng = random.Random(seed)
    order = names[:]
    rng.shuffle(order)
    weights = [1 / (i + 1) ** 0.9 for i in range(len(order))]
    invs = [inventory(rng, order, weights, i) for i in range(distinct)]
    index = CachingIndex(StoreIndex(kb))
    prepared: dict[int, tuple[str, list[dict[str, object]], set[tuple[str, str]]]] = {}
    started = time.perf_counter()
    for lo in range(0, n, 500):
        with engine.begin() as conn:
            for i in range(lo, min(n, lo + 500)):
                j = i % distinct
                inv = invs[j]
                if j not in prepared:
                    digest, _ = inventories.store(conn, account, inv)
                    cols = [columns(f) for f in match_inventory(inv, index, "").findings]
                    prepared[j] = (digest, cols, keyindex.package_keys(inv, index))
                digest, cols, keys = prepared[j]
                rid, when = new_id(), now()
                conn.execute(resources.insert().values(
                    id=rid, account_id=account, type="HOST", name=f"host-{i}", identity=f"host-{i}", details={},
                    created_at=when, scan_status="ACTIVE", scan_reason="SUCCESSFUL", last_scanned_at=when,
                    inventory_sha256=digest))
                rows = []
                for c in cols:
                    detail = c["detail"]
                    assert isinstance(detail, dict)
                    pvd = detail["packageVulnerabilityDetails"]
                    mid = hashlib.sha256(f"{rid}\x00{pvd['vulnerabilityId']}\x00"
                                         f"{pvd['vulnerablePackages'][0]['packageId']}".encode()).hexdigest()[:32]
                    rows.append({**c, "detail": {**detail, "findingId": mid}, "id": service_id(account, mid),
                                 "account_id": account, "resource_id": rid, "resource_type": "HOST",
                                 "status": "ACTIVE", "first_observed_at": when, "last_observed_at": when,
                                 "updated_at": when})
                if rows:
                    conn.execute(findings.insert(), rows)
                keyindex.replace(conn, account, rid, keys)
        print(f"  stored {min(n, lo + 500)} resources ({time.perf_counter() - started:.0f} s)", flush=True)


def touch(mirror: Path, engine: sa.Engine, percent: float, seed: int) -> tuple[int, int]:
    """Modify one record of ``percent`` % of the stored keys (those with records); returns (keys held, touched)."""
    with engine.connect() as conn:
        held = sorted({n for (n,) in conn.execute(sa.select(resource_package_keys.c.name).distinct())})
    with_records = [n for n in held if (mirror / n).is_dir()]
    k = max(1, round(len(held) * percent / 100))
    rng = random.Random(seed)
    for name in rng.sample(with_records, k):
        f = sorted((mirror / name).glob("*.yaml"))[0]
        doc = yaml.safe_load(f.read_text())
        doc["severity"], doc["modified"] = CRITICAL, f"2026-11-01T00:00:{seed % 60:02d}Z"
        f.write_text(yaml.safe_dump(doc))
    return len(held), k


def store(backend: str, tmp: Path) -> AbstractContextManager[sa.Engine]:
    return service_store(backend, tmp, "vh_bench_reeval")


def via_jobs(mode: str, engine: sa.Engine, url: str, kb: KnowledgeBase, kb_url: str, workers: int
             ) -> tuple[float, dict[str, Any]]:
    """One `reevaluate` job: on the in-process executor (the embedded default), or split into slices that
    ``workers`` Celery worker processes (`vulnhound worker`, Redis) share. Worker start-up is not timed."""
    from vulnhound.service.jobs import store as jobstore
    from vulnhound.service.jobs.celery_exec import CeleryExecutor
    from vulnhound.service.jobs.dispatch import wait_done
    from vulnhound.service.jobs.inprocess import InProcessExecutor
    from vulnhound.service.jobs.interface import JobContext

    with engine.begin() as conn:
        jid = jobstore.enqueue(conn, "reevaluate", {"slices": 4 * workers} if mode == "celery" else {})
    procs: list[subprocess.Popen[bytes]] = []
    if mode == "in-process":
        ctx = JobContext(engine=engine, index=KnowledgeBaseIndex(kb_url), kb=lambda: kb)
        executor: Any = InProcessExecutor(ctx, workers=2)
    else:
        broker, queue = "redis://127.0.0.1:6379/9", f"vh-bench-reeval-{os.getpid()}"
        logs = [Path(tempfile.gettempdir()) / f"bench-reeval-worker-{os.getpid()}-{i}.log" for i in range(workers)]
        for log in logs:
            with log.open("wb") as out:
                procs.append(subprocess.Popen(
                    [str(REPO / ".venv/bin/vulnhound"), "worker", "--database-url", url, "--broker", broker,
                     "--kb-db", kb_url, "--queue", queue, "--concurrency", "1"], stdout=out,
                    stderr=subprocess.STDOUT, start_new_session=True))
        for log in logs:
            while b" ready." not in log.read_bytes():
                time.sleep(0.1)
        executor = CeleryExecutor(broker, queue)
    try:
        t0 = time.perf_counter()
        executor.submit(jid)
        status = wait_done(engine, jid, 3600)
        seconds = time.perf_counter() - t0
    finally:
        executor.close()
        for p in procs:
            os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            p.wait(timeout=60)
    with engine.connect() as conn:
        row = conn.execute(sa.select(jobs.c.result, jobs.c.error).where(jobs.c.id == jid)).one()
    if status != "SUCCEEDED":
        raise SystemExit(f"the re-evaluation job ended {status}: {row.error}")
    return seconds, dict(row.result)


def run(backend: str, args: argparse.Namespace) -> list[dict[str, object]]:
    with tempfile.TemporaryDirectory(prefix="vh-bench-reeval-") as tmpdir:
        tmp = Path(tmpdir)
        mirror = tmp / "mirror" / "pypa" / "vulns"
        shutil.copytree(args.vulndata / "pypa-advisory-database" / "vulns", mirror)
        kb_url = f"sqlite:///{tmp / 'kb.db'}"
        kb = open_kb(kb_url)
        update_from_mirror(kb.engine, tmp / "mirror")
        names = pool(mirror)
        with store(backend, tmp) as engine:
            print(f"{backend}: storing {args.resources} resources", flush=True)
            populate(engine, kb, names, args.resources, args.distinct)
            with engine.begin() as conn:  # the stored findings come from the initial import: start after it
                set_cursor(conn, 0, max(op.id for op in kb.operations()))
            rows: list[dict[str, object]] = []
            for n, workers in enumerate(args.workers):
                # each run gets its own update (another 1 % of the keys): the previous one was applied
                held, touched = touch(mirror, engine, args.percent, seed=11 + n)
                update_from_mirror(kb.engine, tmp / "mirror")
                with engine.connect() as conn:
                    open_findings = conn.execute(sa.select(sa.func.count()).select_from(findings)).scalar()
                load = os.getloadavg()[0]
                result = incremental(engine, KnowledgeBaseIndex(kb_url), kb, workers)
                row: dict[str, object] = {
                    "backend": backend, "resources": args.resources, "inventories": args.distinct,
                    "findings": open_findings, "keys": held, "touched": touched, "workers": workers,
                    "reevaluated": result.resources, "changed": result.changed,
                    "seconds": round(result.seconds, 1), "load1": round(load, 2)}
                print(row, flush=True)
                rows.append(row)
            if args.celery:
                url = engine.url.render_as_string(hide_password=False)
                for n, mode in enumerate(("in-process", "celery")):
                    held, touched = touch(mirror, engine, args.percent, seed=101 + n)
                    update_from_mirror(kb.engine, tmp / "mirror")
                    load = os.getloadavg()[0]
                    seconds, out = via_jobs(mode, engine, url, kb, kb_url, args.celery)
                    row = {"backend": backend, "resources": args.resources, "inventories": args.distinct,
                           "keys": held, "touched": touched,
                           "workers": f"{mode} ({args.celery} worker processes, {4 * args.celery} slices)"
                           if mode == "celery" else "in-process executor (1 job)",
                           "reevaluated": out["resourcesReevaluated"],
                           "changed": sum(out["findingChanges"].values()), "seconds": round(seconds, 1),
                           "per_resource_ms": round(1000 * seconds / max(out["resourcesReevaluated"], 1), 2),
                           "load1": round(load, 2)}
                    print(row, flush=True)
                    rows.append(row)
            if args.full:
                check = full(engine, KnowledgeBaseIndex(kb_url))
                rows[-1]["full_seconds"], rows[-1]["full_changed"] = round(check.seconds, 1), check.changed
            kb.engine.dispose()
            return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--resources", type=int, default=10_000)
    ap.add_argument("--percent", type=float, default=1.0)
    ap.add_argument("--distinct", type=int, default=2500, help="distinct inventories among the resources")
    ap.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--vulndata", type=Path, default=REPO.parent / "shared" / "vulndata")
    ap.add_argument("--workers", type=lambda v: [int(x) for x in v.split(",")], default=[1, 2],
                    help="one timed run per value (forked processes), each after its own update")
    ap.add_argument("--full", action="store_true", help="also time the full re-evaluation afterwards")
    ap.add_argument("--celery", type=int, default=0, metavar="N",
                    help="also time one re-evaluation job on the in-process executor and one split over N Celery "
                         "worker processes (Redis), each after its own update")
    args = ap.parse_args()
    rows = [r for b in (("sqlite", "postgresql") if args.backend == "both" else (args.backend,))
            for r in run(b, args)]
    load = os.getloadavg()
    print(f"\nload average before/after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}\n")
    cols = list(dict.fromkeys(c for r in rows for c in r))
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |")


if __name__ == "__main__":
    main()
