"""Service benchmark through the HTTP API (in-process ASGI client): (a) findings list/aggregation latency on
PostgreSQL holding 1 M findings over 10 k resources; (b) inventory upload + match throughput (hosts per minute).

    .venv/bin/python -m bench.bench_service list --database-url postgresql+psycopg://postgres@127.0.0.1/vh_bench_service
    .venv/bin/python -m bench.bench_service push --kb PATH_OR_URL [--hosts 200] [--threads 2]
    .venv/bin/python -m bench.bench_service push --kb PATH --servers 2 --threads 4 --database-url postgresql+psycopg://…

``list`` fills the database once (COPY; kept between runs, ``--refill`` rebuilds it), then times typical filtered
list requests (p50/p95 over ``--requests`` each, second pages included) and every aggregation. ``push`` posts
varied copies of the Debian rootfs inventory (``.targets/debian-rootfs``, or ``--inventory FILE``) as distinct
hosts and reports hosts/min and the share of the request spent matching; with ``--servers N`` it posts over real
HTTP to N uvicorn processes (one per core, as ``uvicorn --workers`` would run) sharing a PostgreSQL store.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import os
import pstats
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from fastapi.testclient import TestClient

from vulnhound.service.api.app import create_app
from vulnhound.service.api.deps import Settings
from vulnhound.service.db.engine import open_store
from vulnhound.service.db.tables import accounts, api_keys, findings, resource_tags, resources
from vulnhound.service.domain.accounts import _insert_key, bootstrap
from vulnhound.service.domain.common import iso, new_id

REPO = Path(__file__).resolve().parents[1]
SEVERITIES = [("CRITICAL", 5, 5), ("HIGH", 4, 25), ("MEDIUM", 3, 45), ("LOW", 2, 20), ("UNTRIAGED", 0, 5)]
RTYPES = [("HOST", 70), ("CONTAINER_IMAGE", 25), ("FUNCTION", 5)]
STATUSES = [("ACTIVE", 80), ("SUPPRESSED", 5), ("CLOSED", 15)]
FIXES = [("YES", 60), ("PARTIAL", 5), ("NO", 35)]
COPY_COLUMNS = ("id", "account_id", "resource_id", "resource_type", "type", "status", "title", "severity",
                "severity_rank", "vulnerability_id", "vulnerability_source", "package_name", "package_version",
                "layer_hash", "fix_available", "exploit_available", "epss_score", "risk_score", "first_observed_at",
                "last_observed_at", "updated_at", "closed_at", "closed_reason", "suppressed_by", "detail")


def _weighted(pairs: list[tuple[Any, ...]]) -> list[Any]:
    return [p[:-1] if len(p) > 2 else p[0] for p in pairs for _ in range(p[-1])]


def _admin(engine: sa.Engine) -> str:
    with engine.begin() as conn:
        token = bootstrap(conn)
        if token is None:
            aid = conn.execute(sa.select(accounts.c.id).where(accounts.c.is_root)).scalar_one()
            token, _ = _insert_key(conn, aid, "bench", "admin")
    return token


def fill(engine: sa.Engine, n_findings: int, n_resources: int, seed: int = 11) -> None:
    """One account; resources with tags; findings with a realistic mix of severities, statuses, packages, CVEs."""
    rng = random.Random(seed)
    with engine.connect() as conn:
        account = conn.execute(sa.select(api_keys.c.account_id).limit(1)).scalar_one()
    base = time.time() - 90 * 86400
    stamp: Callable[[float], str] = lambda t: iso(__import__("datetime").datetime.fromtimestamp(t,  # noqa: E731
                                                  __import__("datetime").UTC))
    rtypes = _weighted(RTYPES)
    res = [(new_id(), rng.choice(rtypes)) for _ in range(n_resources)]
    t0 = time.perf_counter()
    with engine.begin() as conn:
        conn.execute(resources.insert(), [
            {"id": rid, "account_id": account, "type": rt, "name": f"{rt.lower()}-{i}", "identity": f"{rt}-{i}",
             "details": {}, "created_at": stamp(base), "scan_status": "ACTIVE", "scan_reason": "SUCCESSFUL",
             "last_scanned_at": stamp(base + 80 * 86400), "inventory_sha256": None}
            for i, (rid, rt) in enumerate(res)])
        conn.execute(resource_tags.insert(), [
            {"resource_id": rid, "key": k, "value": v} for i, (rid, _) in enumerate(res)
            for k, v in (("env", ("prod", "staging", "dev")[i % 3]), ("team", f"team-{i % 40}"))])
    packages = [f"{p}{i}" for i in range(400) for p in ("lib", "py-", "node-", "go-", "")]
    packages[:10] = ["openssl", "libc6", "zlib1g", "curl", "libxml2", "requests", "jinja2", "lodash", "log4j-core",
                     "glibc"]
    cves = [f"CVE-{2014 + i % 12}-{10000 + i}" for i in range(20_000)]
    sev, status, fixes = _weighted(SEVERITIES), _weighted(STATUSES), _weighted(FIXES)
    per = n_findings // n_resources
    rows_done = 0
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        with cur.copy(f"COPY findings ({', '.join(COPY_COLUMNS)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for rid, rt in res:
                for _ in range(per):
                    s, rank = rng.choice(sev)
                    st = rng.choice(status)
                    # popular packages and CVEs recur across the fleet (a Zipf-like head), the rest is a long tail
                    pkg = packages[min(int(rng.paretovariate(1.2)) - 1, len(packages) - 1)] if rng.random() < 0.6 \
                        else rng.choice(packages)
                    cve = cves[min(int(rng.paretovariate(1.1)) - 1, len(cves) - 1)] if rng.random() < 0.5 \
                        else rng.choice(cves)
                    ver = f"{rng.randint(0, 9)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}"
                    fix = rng.choice(fixes)
                    epss = -1.0 if rng.random() < 0.3 else round(rng.betavariate(0.3, 3), 5)
                    risk = round(rng.uniform(0, 10), 2)
                    first = base + rng.uniform(0, 80 * 86400)
                    last = first + rng.uniform(0, 10 * 86400)
                    layer = f"sha256:{rng.getrandbits(256):064x}" if rt == "CONTAINER_IMAGE" else None
                    title = f"{cve} - {pkg}"
                    detail = {
                        "type": "PACKAGE_VULNERABILITY", "title": title, "severity": s, "riskScore": risk,
                        "description": f"A flaw was found in {pkg} that allows a remote attacker to cause a denial "
                                       f"of service or possibly execute arbitrary code via crafted input.",
                        "fixAvailable": fix, "exploitAvailable": rng.random() < 0.05,
                        "epss": None if epss < 0 else {"score": epss},
                        "packageVulnerabilityDetails": {
                            "vulnerabilityId": cve, "source": "debian" if rng.random() < 0.6 else "osv",
                            "referenceUrls": [f"https://security-tracker.debian.org/tracker/{cve}"],
                            "cvss": [{"version": "3.1", "baseScore": risk,
                                      "scoringVector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
                            "vulnerablePackages": [{"name": pkg, "version": ver, "fixedInVersion":
                                                    None if fix == "NO" else f"{ver}+fix1",
                                                    "packageManager": "DPKG", "sourceLayerHash": layer}]},
                        "remediation": {"recommendation": {"text": f"Upgrade {pkg} to {ver}+fix1"}},
                    }
                    copy.write_row((
                        new_id(), account, rid, rt, "PACKAGE_VULNERABILITY", st, title, s, rank, cve,
                        detail["packageVulnerabilityDetails"]["source"], pkg, ver, layer, fix,
                        detail["exploitAvailable"], epss, risk, stamp(first), stamp(last), stamp(last),
                        stamp(last) if st == "CLOSED" else None, "PACKAGE_UPGRADED" if st == "CLOSED" else None,
                        None, json.dumps(detail, separators=(",", ":"))))
                    rows_done += 1
        raw.commit()
    finally:
        raw.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE findings")
        conn.exec_driver_sql("VACUUM ANALYZE resources")
        conn.exec_driver_sql("VACUUM ANALYZE resource_tags")
    print(f"filled {rows_done:,} findings over {n_resources:,} resources in {time.perf_counter() - t0:.0f} s")


def _eq(field: str, *values: str) -> dict[str, Any]:
    return {field: [{"comparison": "EQUALS", "value": v} for v in values]}


def list_cases(engine: sa.Engine, rng: random.Random) -> dict[str, Callable[[], dict[str, Any]]]:
    """Typical console and API requests, each a generator of varied bodies."""
    with engine.connect() as conn:
        rids = [r for (r,) in conn.execute(sa.select(resources.c.id).limit(2000))]
        cves = [c for (c,) in conn.execute(sa.text(
            "SELECT vulnerability_id FROM findings GROUP BY vulnerability_id ORDER BY count(*) DESC LIMIT 200"))]
    pkgs = ["openssl", "libc6", "zlib1g", "curl", "libxml2", "requests", "jinja2", "lodash", "lib7", "py-42"]
    return {
        "default: all findings, severity desc": lambda: {},
        "ACTIVE CRITICAL+HIGH, severity desc": lambda: {"filterCriteria": {
            **_eq("findingStatus", "ACTIVE"), **_eq("severity", "CRITICAL", "HIGH")}},
        "one resource, ACTIVE, severity desc": lambda: {"filterCriteria": {
            **_eq("resourceId", rng.choice(rids)), **_eq("findingStatus", "ACTIVE")}},
        "one CVE across the fleet, risk desc": lambda: {"filterCriteria": _eq("vulnerabilityId", rng.choice(cves)),
                                                       "sortCriteria": {"field": "RISK_SCORE"}},
        "package name, ACTIVE, last observed desc": lambda: {"filterCriteria": {
            "vulnerablePackages": [{"name": {"comparison": "EQUALS", "value": rng.choice(pkgs)}}],
            **_eq("findingStatus", "ACTIVE")}, "sortCriteria": {"field": "LAST_OBSERVED_AT"}},
        "ACTIVE, fix available, exploit, risk desc": lambda: {"filterCriteria": {
            **_eq("findingStatus", "ACTIVE"), **_eq("fixAvailable", "YES"), **_eq("exploitAvailable", "YES")},
            "sortCriteria": {"field": "RISK_SCORE"}},
        "EPSS >= 0.5, epss desc": lambda: {"filterCriteria": {"epssScore": [{"lowerInclusive": 0.5}]},
                                           "sortCriteria": {"field": "EPSS_SCORE"}},
        "tag env=prod, HIGH, first observed in a week": lambda: {"filterCriteria": {
            "resourceTags": [{"key": "env", "value": "prod"}], **_eq("severity", "HIGH"),
            "firstObservedAt": [{"startInclusive": "2026-09-20T00:00:00Z", "endInclusive": "2026-09-27T00:00:00Z"}]}},
        "CONTAINER_IMAGE, title prefix CVE-2024, updated desc": lambda: {"filterCriteria": {
            **_eq("resourceType", "CONTAINER_IMAGE"), "title": [{"comparison": "PREFIX", "value": "CVE-2024"}]},
            "sortCriteria": {"field": "UPDATED_AT"}},
        "not LOW, not CLOSED, risk desc": lambda: {"filterCriteria": {
            "severity": [{"comparison": "NOT_EQUALS", "value": "LOW"}],
            "findingStatus": [{"comparison": "NOT_EQUALS", "value": "CLOSED"}]},
            "sortCriteria": {"field": "RISK_SCORE"}},
    }


def _pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p * (len(xs) - 1)))]


def run_list(args: argparse.Namespace) -> None:
    engine = open_store(args.database_url)
    token = _admin(engine)
    with engine.connect() as conn:
        have = conn.execute(sa.select(sa.func.count()).select_from(findings)).scalar_one()
    if args.refill or have < args.findings:
        with engine.begin() as conn:
            conn.exec_driver_sql("TRUNCATE findings, finding_history, resource_tags, resources CASCADE")
        fill(engine, args.findings, args.resources)
    app = create_app(Settings(engine=engine, index=lambda: None))  # type: ignore[arg-type,return-value]
    headers = {"Authorization": f"Bearer {token}"}
    rng = random.Random(3)
    print(f"load before: {os.getloadavg()[0]:.2f}")
    with TestClient(app) as client:
        def post(url: str, body: dict[str, Any]) -> tuple[float, dict[str, Any]]:
            t = time.perf_counter()
            r = client.post(url, json=body, headers=headers)
            dt = time.perf_counter() - t
            assert r.status_code == 200, r.text
            return dt, r.json()

        for _ in range(3):  # warm the connection pool, the plan cache and shared buffers
            post("/v1/findings/list", {"maxResults": 50})
        every: list[float] = []
        print("| request (maxResults 50) | pages | p50 ms | p95 ms | max ms | rows on page 1 |")
        print("|---|---|---|---|---|---|")
        for name, body_of in list_cases(engine, rng).items():
            times, rows = [], 0
            for _ in range(args.requests):
                body = {**body_of(), "maxResults": 50}
                dt, page = post("/v1/findings/list", body)
                times.append(dt)
                rows = max(rows, len(page["findings"]))
                if page["nextToken"]:  # the second page: the keyset cursor path
                    dt, _ = post("/v1/findings/list", {**body, "nextToken": page["nextToken"]})
                    times.append(dt)
            every += times
            print(f"| {name} | {len(times)} | {statistics.median(times) * 1e3:.1f} | {_pct(times, .95) * 1e3:.1f} "
                  f"| {max(times) * 1e3:.1f} | {rows} |")
        print(f"| **all list requests** | {len(every)} | {statistics.median(every) * 1e3:.1f} | "
              f"{_pct(every, .95) * 1e3:.1f} | {max(every) * 1e3:.1f} | |")
        print("\n| aggregation (ACTIVE findings) | runs | median ms | max ms | groups |")
        print("|---|---|---|---|---|")
        for kind in ("RESOURCE", "PACKAGE", "VULNERABILITY", "TITLE", "IMAGE_LAYER", "ACCOUNT", "RESOURCE_TYPE",
                     "FINDING_TYPE"):
            times = []
            for _ in range(args.agg_runs):
                dt, doc = post("/v1/findings/aggregations", {"aggregationType": kind})
                times.append(dt)
            print(f"| {kind} | {len(times)} | {statistics.median(times) * 1e3:.0f} | {max(times) * 1e3:.0f} "
                  f"| {doc['totalGroups']:,} |")
        times = []
        for _ in range(args.agg_runs):
            dt, doc = post("/v1/findings/aggregations", {"aggregationType": "RESOURCE", "filterCriteria": {
                **_eq("severity", "CRITICAL")}})
            times.append(dt)
        print(f"| RESOURCE, CRITICAL only | {len(times)} | {statistics.median(times) * 1e3:.0f} | "
              f"{max(times) * 1e3:.0f} | {doc['totalGroups']:,} |")
    print(f"load after: {os.getloadavg()[0]:.2f}")
    engine.dispose()


# -- (b) inventory upload + match ---------------------------------------------------------------------------------

def _base_inventory(path: Path | None) -> dict[str, Any]:
    if path:
        doc: dict[str, Any] = json.loads(path.read_text())
        return doc
    from vulnhound.exports.inventory_json import to_wire
    from vulnhound.inventory.build import build_inventory
    from vulnhound.sources.resolve import open_source

    with open_source(f"dir:{REPO / '.targets' / 'debian-rootfs'}") as src:
        return to_wire(build_inventory(src))


def _variant(base: dict[str, Any], i: int, rng: random.Random) -> dict[str, Any]:
    """Host i: the same distribution with a few packages at other versions or missing, as a fleet drifts."""
    doc = json.loads(json.dumps(base))
    doc["source"] = {**doc.get("source", {}), "target": f"host:/#{i}"}
    pkgs = doc["packages"]
    for p in rng.sample(pkgs, k=min(8, len(pkgs))):
        p["version"] = p["version"] + f"+h{i % 7}"
    drop = set(rng.sample(range(len(pkgs)), k=min(3, len(pkgs))))
    doc["packages"] = [p for j, p in enumerate(pkgs) if j not in drop]
    return doc


@contextlib.contextmanager
def _profiled(on: bool) -> Iterator[cProfile.Profile | None]:
    if not on:
        yield None
        return
    prof = cProfile.Profile()
    prof.enable()
    try:
        yield prof
    finally:
        prof.disable()


def run_push(args: argparse.Namespace) -> None:
    from vulnhound.service.server import KnowledgeBaseIndex

    tmp = tempfile.TemporaryDirectory(prefix="bench-service-")
    url = args.database_url or f"sqlite:///{Path(tmp.name) / 'service.db'}"
    engine = open_store(url)
    token = _admin(engine)
    index = KnowledgeBaseIndex(args.kb)
    match_time = [0.0]
    import vulnhound.matching.matcher as matcher

    original = matcher.match_inventory
    lock = threading.Lock()

    def timed(*a: Any, **kw: Any) -> Any:  # the matcher's share of each request
        t = time.perf_counter()
        try:
            return original(*a, **kw)
        finally:
            with lock:
                match_time[0] += time.perf_counter() - t
    matcher.match_inventory = timed  # type: ignore[assignment]
    app = create_app(Settings(engine=engine, index=index, max_upload=256 * 1024 * 1024))
    headers = {"Authorization": f"Bearer {token}"}
    base = _base_inventory(args.inventory)
    rng = random.Random(5)
    docs = [_variant(base, i, rng) for i in range(args.hosts)]
    print(f"inventory: {len(base['packages'])} packages; {args.hosts} hosts; {args.threads} client threads; "
          f"store {engine.url.get_backend_name()}; load before {os.getloadavg()[0]:.2f}")
    with TestClient(app) as client:
        def host(i: int) -> str:
            rid = client.post("/v1/resources", json={"type": "HOST", "name": f"bench-{i}-{new_id()[:6]}"},
                              headers=headers).json()["resourceId"]
            return str(rid)

        warm = host(-1)  # opens the knowledge base, fills its caches
        r = client.post(f"/v1/resources/{warm}/inventory", json=docs[0], headers=headers)
        assert r.status_code == 201 and r.json()["status"] == "COMPLETED", r.text
        rids = [host(i) for i in range(args.hosts)]
        match_time[0] = 0.0
        errors: list[str] = []
        stats: list[dict[str, Any]] = []

        def worker(slot: int) -> None:
            for i in range(slot, args.hosts, args.threads):
                r = client.post(f"/v1/resources/{rids[i]}/inventory", json=docs[i], headers=headers)
                if r.status_code != 201 or r.json()["status"] != "COMPLETED":
                    errors.append(r.text[:300])
                else:
                    stats.append(r.json()["stats"])

        cpu0, t0 = time.process_time(), time.perf_counter()
        with _profiled(args.profile) as prof:
            threads = [threading.Thread(target=worker, args=(s,)) for s in range(args.threads)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    assert not errors, errors[:3]
    found = sum(s.get("findings", 0) for s in stats)
    print(f"{args.hosts} uploads in {wall:.1f} s wall, {cpu:.1f} s CPU: {args.hosts / wall * 60:,.0f} hosts/min; "
          f"{wall / args.hosts * 1e3:.0f} ms per host; matching {match_time[0] / max(args.threads, 1):.1f} s of "
          f"the wall ({match_time[0] / max(args.threads, 1) / wall:.0%}); {found / args.hosts:.1f} findings/host; "
          f"load after {os.getloadavg()[0]:.2f}")
    if prof is not None:
        pstats.Stats(prof).sort_stats("cumulative").print_stats(40)
    engine.dispose()
    tmp.cleanup()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_serve(args: argparse.Namespace) -> None:
    """One server process (what one uvicorn worker is): the API on a store and a knowledge base, scans inline."""
    import uvicorn

    from vulnhound.service.server import KnowledgeBaseIndex

    engine = open_store(args.database_url)
    app = create_app(Settings(engine=engine, index=KnowledgeBaseIndex(args.kb), max_upload=256 * 1024 * 1024))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


def _cpu(pid: int) -> float:
    """User + system CPU seconds of a live process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_push_http(args: argparse.Namespace) -> None:
    """``--servers N`` uvicorn processes on a PostgreSQL store, a client posting from ``--threads`` threads."""
    import subprocess
    import sys

    import httpx

    engine = open_store(args.database_url)
    token = _admin(engine)
    engine.dispose()
    ports = [_free_port() for _ in range(args.servers)]
    procs = [subprocess.Popen([sys.executable, "-m", "bench.bench_service", "serve", "--database-url",
                               args.database_url, "--kb", args.kb, "--port", str(p)], cwd=REPO) for p in ports]
    try:
        headers = {"Authorization": f"Bearer {token}", "content-type": "application/json"}
        clients = [httpx.Client(base_url=f"http://127.0.0.1:{p}", headers=headers, timeout=120) for p in ports]
        deadline = time.monotonic() + 60
        for c in clients:
            while True:
                try:
                    if c.get("/v1/health").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "a server did not start"
                time.sleep(0.2)
        base = _base_inventory(args.inventory)
        rng = random.Random(5)
        bodies = [json.dumps(_variant(base, i, rng)).encode() for i in range(args.hosts + len(clients))]
        tag = new_id()[:6]

        def host(c: httpx.Client, i: int) -> str:
            r = c.post("/v1/resources", json={"type": "HOST", "name": f"bench-{tag}-{i}"})
            assert r.status_code == 201, r.text
            return str(r.json()["resourceId"])

        for j, c in enumerate(clients):  # warm each server: knowledge base opened, caches filled
            r = c.post(f"/v1/resources/{host(c, -1 - j)}/inventory", content=bodies[args.hosts + j])
            assert r.status_code == 201 and r.json()["status"] == "COMPLETED", r.text
        rids = [host(clients[0], i) for i in range(args.hosts)]
        errors: list[str] = []
        print(f"inventory: {len(base['packages'])} packages; {args.hosts} hosts; {args.servers} server processes; "
              f"{args.threads} client threads; store postgresql; load before {os.getloadavg()[0]:.2f}")

        def worker(slot: int) -> None:
            c = clients[slot % len(clients)]
            for i in range(slot, args.hosts, args.threads):
                r = c.post(f"/v1/resources/{rids[i]}/inventory", content=bodies[i])
                if r.status_code != 201 or r.json()["status"] != "COMPLETED":
                    errors.append(r.text[:300])

        cpu0, t0 = sum(_cpu(p.pid) for p in procs), time.perf_counter()
        threads = [threading.Thread(target=worker, args=(s,)) for s in range(args.threads)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall, cpu = time.perf_counter() - t0, sum(_cpu(p.pid) for p in procs) - cpu0
        assert not errors, errors[:3]
        print(f"{args.hosts} uploads in {wall:.1f} s wall: {args.hosts / wall * 60:,.0f} hosts/min; "
              f"{wall / args.hosts * 1e3:.0f} ms per host; server processes' CPU {cpu / args.hosts * 1e3:.0f} ms "
              f"per host (2 free cores would sustain {2 * 60 / (cpu / args.hosts):,.0f} hosts/min before the "
              f"database's share); load after {os.getloadavg()[0]:.2f}")
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(10)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("list", help="list and aggregation latency on a big PostgreSQL store")
    a.add_argument("--database-url", required=True)
    a.add_argument("--findings", type=int, default=1_000_000)
    a.add_argument("--resources", type=int, default=10_000)
    a.add_argument("--requests", type=int, default=30, help="requests per case")
    a.add_argument("--agg-runs", type=int, default=5)
    a.add_argument("--refill", action="store_true")
    b = sub.add_parser("push", help="inventory upload + match throughput")
    b.add_argument("--kb", required=True, help="knowledge base path or URL (built by `vulnhound db update`)")
    b.add_argument("--database-url", default=None, help="service store (default: a temporary SQLite file)")
    b.add_argument("--inventory", type=Path, default=None, help="native inventory JSON (default: the rootfs)")
    b.add_argument("--hosts", type=int, default=200)
    b.add_argument("--threads", type=int, default=2)
    b.add_argument("--profile", action="store_true")
    b.add_argument("--servers", type=int, default=0,
                   help="N > 0: post over HTTP to N uvicorn server processes (needs --database-url postgresql…)")
    s = sub.add_parser("serve", help="(used by push --servers) one server process")
    s.add_argument("--database-url", required=True)
    s.add_argument("--kb", required=True)
    s.add_argument("--port", type=int, required=True)
    args = ap.parse_args()
    if args.cmd == "list":
        run_list(args)
    elif args.cmd == "serve":
        run_serve(args)
    elif args.servers:
        run_push_http(args)
    else:
        run_push(args)


if __name__ == "__main__":
    main()
