"""Re-evaluation: keep findings true as the knowledge base changes, without rescanning.

``incremental`` reads the knowledge-base operations after the ``kb-reevaluation`` cursor, selects the resources
whose package keys they touched (or whose findings belong to a changed vulnerability group, or whose KEV/EPSS
values moved), re-matches only the affected packages of each resource's stored inventory and applies the result
through the finding lifecycle, one transaction per resource, each change with its cause. The cursor advances
(with one ``vulnhound.knowledgebase.updated`` event per account) after every resource is done, so a crash re-runs
the range and finds the finished resources unchanged. ``full`` re-matches every resource: the safety net, which
must agree with the incremental path.
"""

from __future__ import annotations

import dataclasses
import time
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa

from vulnhound.findings.model import FindingType
from vulnhound.inventory.model import Inventory
from vulnhound.matching.index import AdvisoryIndex
from vulnhound.matching.keys import Unsupported, keys_for
from vulnhound.service.continuous import keyindex
from vulnhound.service.continuous.cache import CachingIndex
from vulnhound.service.db import cursors
from vulnhound.service.db.tables import findings, resources
from vulnhound.service.domain import inventories
from vulnhound.service.domain.common import now
from vulnhound.service.domain.lifecycle import (
    ADDED,
    EPSS_CHANGED,
    KEV_CHANGED,
    MODIFIED,
    OPEN,
    WITHDRAWN,
    Cause,
    IngestResult,
    ingest,
    package_id_of,
)
from vulnhound.service.domain.suppression import apply_rules
from vulnhound.service.events.outbox import emit

if TYPE_CHECKING:
    from vulnhound.advisories.store.query import KnowledgeBase, Operation

CURSOR = "kb-reevaluation"
SCORE_SOURCES = {"cisa-kev": KEV_CHANGED, "epss": EPSS_CHANGED}
FULL = "FULL_REEVALUATION"
_CHUNK = 500


@dataclass(slots=True)
class Result:
    operations: list[int] = field(default_factory=list)
    selected: dict[str, int] = field(default_factory=dict)  # by key / group / score: resources chosen each way
    resources: int = 0  # re-evaluated
    skipped: int = 0  # deleted or rescanned meanwhile
    changes: dict[str, int] = field(default_factory=dict)  # created / changed / closed / reopened
    causes: dict[str, int] = field(default_factory=dict)  # cause -> findings
    per_account: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def add(self, account_id: str, ch: IngestResult) -> None:
        self.resources += 1
        self.per_account[account_id] = self.per_account.get(account_id, 0) + 1
        for k, v in (("created", len(ch.created)), ("changed", len(ch.changed)), ("closed", len(ch.closed)),
                     ("reopened", len(ch.reopened))):
            self.changes[k] = self.changes.get(k, 0) + v
        for k, v in ch.causes.items():
            self.causes[k] = self.causes.get(k, 0) + v

    @property
    def changed(self) -> int:
        return sum(self.changes.values())

    def as_dict(self) -> dict[str, Any]:
        return {"operations": self.operations, "selected": self.selected, "resourcesReevaluated": self.resources,
                "skipped": self.skipped, "findingChanges": self.changes, "causes": self.causes,
                "seconds": round(self.seconds, 3)}


# -- cursor ----------------------------------------------------------------------------------------------------

def cursor(conn: sa.Connection, name: str = CURSOR) -> int:
    return cursors.read(conn, name)


def advance(conn: sa.Connection, since: int, to: int, name: str = CURSOR) -> bool:
    """Compare-and-set: False when another run moved the cursor first (it then owns the events)."""
    return cursors.advance(conn, name, since, to)


def behind(engine: sa.Engine, kb: KnowledgeBase) -> bool:
    """Whether the knowledge base has operations the re-evaluation has not applied (a `db update` run by cron or
    by hand, outside the server): two one-row queries, cheap enough for every scheduler tick."""
    from vulnhound.advisories.store import tables as kbt

    with kb.engine.connect() as conn:
        newest = conn.execute(sa.select(sa.func.max(kbt.operations.c.id))).scalar()
    if not newest:
        return False
    with engine.connect() as conn:
        return int(newest) > cursor(conn)


# -- applying one resource --------------------------------------------------------------------------------------

class _Inventories:
    """Stored inventories by (account, sha256), a bounded LRU: resources often share a snapshot."""

    def __init__(self, engine: sa.Engine, size: int = 256) -> None:
        self.engine, self.size = engine, size
        self._held: OrderedDict[tuple[str, str], Inventory] = OrderedDict()

    def get(self, account_id: str, digest: str) -> Inventory:
        key = (account_id, digest)
        inv = self._held.get(key)
        if inv is None:
            with self.engine.connect() as conn:
                inv = inventories.load(conn, account_id, digest)
            self._held[key] = inv
            if len(self._held) > self.size:
                self._held.popitem(last=False)
        else:
            self._held.move_to_end(key)
        return inv


ScopeOf = Callable[[Inventory], set[str] | None]  # the package ids to re-match; None = all


def _one(engine: sa.Engine, index: AdvisoryIndex, invs: _Inventories, rid: str, scope_of: ScopeOf, cause: Cause,
         result: Result) -> None:
    from vulnhound.matching.matcher import match_inventory

    with engine.connect() as conn:
        row = conn.execute(sa.select(resources.c.account_id, resources.c.type, resources.c.inventory_sha256,
                                     resources.c.deleted_at).where(resources.c.id == rid)).first()
    if row is None or row.deleted_at is not None or row.inventory_sha256 is None:
        result.skipped += 1
        return
    inv = invs.get(row.account_id, row.inventory_sha256)
    scope = scope_of(inv)
    if scope is not None and not scope:
        result.add(row.account_id, IngestResult())
        return
    sub = inv if scope is None else dataclasses.replace(inv, packages=[p for p in inv.packages if p.id in scope])
    matched = match_inventory(sub, index, rid)
    with engine.begin() as conn:
        # The row lock orders this against a scan finishing on the same resource; a newer snapshot wins.
        now_row = conn.execute(sa.select(resources.c.inventory_sha256, resources.c.deleted_at).where(
            resources.c.id == rid).with_for_update()).first()
        if now_row is None or now_row.deleted_at is not None or now_row.inventory_sha256 != row.inventory_sha256:
            result.skipped += 1
            return
        ch = ingest(conn, row.account_id, rid, row.type, matched.findings, inv, index, None, now(), cause=cause,
                    observed=False, scope=scope)
        if ch.created or ch.reopened:
            apply_rules(conn, row.account_id, rid)
        if scope is None:
            keyindex.replace(conn, row.account_id, rid, keyindex.package_keys(inv, index))
    result.add(row.account_id, ch)


def _keyed_scope(keys: set[keyindex.Key], extra: dict[str, set[str]], rid: str, index: AdvisoryIndex) -> ScopeOf:
    def scope_of(inv: Inventory) -> set[str]:
        releases = index.distro_releases() if inv.os is not None else []
        out = set(extra.get(rid, ()))
        for p in inv.packages:
            try:
                if any((k.ecosystem, k.name) in keys for k in keys_for(p, inv.os, releases)):
                    out.add(p.id)
            except Unsupported:
                continue
        return out
    return scope_of


def _apply(engine: sa.Engine, index: AdvisoryIndex, rids: Iterable[str], keys: set[keyindex.Key],
           extra: dict[str, set[str]], cause: Cause, result: Result) -> None:
    """Re-match the touched packages of each resource (one transaction each): every path of a run ends here."""
    invs = _Inventories(engine)
    for rid in rids:
        _one(engine, index, invs, rid, _keyed_scope(keys, extra, rid, index), cause, result)


# -- selecting resources ----------------------------------------------------------------------------------------

def _accounts(conn: sa.Connection) -> list[str]:
    return list(conn.execute(sa.select(resources.c.account_id).distinct().where(resources.c.deleted_at.is_(None))
                             ).scalars())


def _open_findings(conn: sa.Connection, account_id: str, vids: Collection[str]) -> Iterable[Any]:
    ordered = sorted(vids)
    f = findings
    for i in range(0, len(ordered), _CHUNK):
        # (account_id, vulnerability_id) is ix_findings_vuln.
        yield from conn.execute(sa.select(f.c.resource_id, f.c.detail, f.c.exploit_available, f.c.epss_score,
                                          f.c.vulnerability_id).where(
            f.c.account_id == account_id, f.c.vulnerability_id.in_(ordered[i:i + _CHUNK]),
            f.c.status.in_(OPEN), f.c.type == FindingType.PACKAGE_VULNERABILITY.value))


def _by_group(conn: sa.Connection, index: AdvisoryIndex, record_ids: Collection[str]) -> dict[str, set[str]]:
    """Resource → package ids of open findings in a vulnerability group one of ``record_ids`` belongs to: a record
    of another package key (an NVD CVE, a distro record) still changes the severity of the whole group."""
    groups = set(index.group_of(record_ids).values()) | set(record_ids)
    out: dict[str, set[str]] = defaultdict(set)
    for account in _accounts(conn):
        for rid, detail, *_ in _open_findings(conn, account, groups):
            if (pid := package_id_of(detail)) is not None:
                out[rid].add(pid)
    return out


def _by_score(conn: sa.Connection, index: AdvisoryIndex) -> dict[str, set[str]]:
    """Resource → package ids of open findings whose stored KEV flag or EPSS score differs from the knowledge
    base's now (KEV and EPSS operations are whole-catalog snapshots without a per-CVE diff)."""
    f = findings
    out: dict[str, set[str]] = defaultdict(set)
    for account in _accounts(conn):
        rows = conn.execute(sa.select(f.c.resource_id, f.c.detail, f.c.exploit_available, f.c.epss_score).where(
            f.c.account_id == account, f.c.status.in_(OPEN), f.c.type == FindingType.PACKAGE_VULNERABILITY.value,
            f.c.vulnerability_id.like("CVE-%"))).all()
        cves: list[list[str]] = []
        for _, detail, _, _ in rows:
            pvd = detail.get("packageVulnerabilityDetails") or {}
            ids = [pvd.get("vulnerabilityId") or "", *(pvd.get("aliases") or [])]
            cves.append([i for i in ids if i.startswith("CVE-")])
        every = {c for cs in cves for c in cs}
        kev, epss = index.kev(every), index.epss(every)
        for (rid, detail, exploit, score), cs in zip(rows, cves, strict=True):
            best = max((epss[c].score for c in cs if c in epss), default=None)
            now_score = -1.0 if best is None else float(best)
            moved = bool(exploit) != any(c in kev for c in cs) or round(float(score), 6) != round(now_score, 6)
            pid = package_id_of(detail)
            if moved and pid is not None:
                out[rid].add(pid)
    return out


def _by_snapshot(engine: sa.Engine, rids: Collection[str]) -> list[str]:
    """The resources in snapshot order: those sharing an inventory (a fleet, an image) load it once."""
    ordered = sorted(rids)
    rows: list[tuple[str, str, str]] = []
    with engine.connect() as conn:
        for i in range(0, len(ordered), _CHUNK):
            rows += [(a or "", d or "", r) for r, a, d in conn.execute(sa.select(
                resources.c.id, resources.c.account_id, resources.c.inventory_sha256).where(
                resources.c.id.in_(ordered[i:i + _CHUNK])))]
    return [r for _, _, r in sorted(rows)]


def _merge(into: Result, part: Result) -> None:
    into.resources += part.resources
    into.skipped += part.skipped
    for mine, theirs in ((into.changes, part.changes), (into.causes, part.causes),
                         (into.per_account, part.per_account)):
        for k, v in theirs.items():
            mine[k] = mine.get(k, 0) + v


_FORKED: dict[str, Any] = {}  # what a forked worker inherits: set just before the pool forks


def _slice(bounds: tuple[int, int]) -> Result:
    from vulnhound.advisories.store.query import KnowledgeBase
    from vulnhound.matching.index import StoreIndex

    st = _FORKED
    engine, kb_engine = st["engine"], st["kb"].engine
    # Connections pooled before the fork belong to the parent: start this process with pools of its own.
    engine.dispose(close=False)
    kb_engine.dispose(close=False)
    index = CachingIndex(StoreIndex(KnowledgeBase(kb_engine)))
    part = Result()
    _apply(engine, index, st["rids"][bounds[0]:bounds[1]], st["keys"], st["extra"], st["cause"], part)
    return part


def _in_processes(engine: sa.Engine, kb: KnowledgeBase, rids: list[str], keys: set[keyindex.Key],
                  extra: dict[str, set[str]], cause: Cause, result: Result, workers: int) -> None:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # Contiguous slices keep resources of one snapshot together (one inventory load each).
    step = -(-len(rids) // workers)
    bounds = [(i, min(len(rids), i + step)) for i in range(0, len(rids), step)]
    _FORKED.update(engine=engine, kb=kb, rids=rids, keys=keys, extra=extra, cause=cause)
    try:
        with ProcessPoolExecutor(len(bounds), mp_context=multiprocessing.get_context("fork")) as pool:
            for part in pool.map(_slice, bounds):
                _merge(result, part)
    finally:
        _FORKED.clear()


# -- the two paths --------------------------------------------------------------------------------------------

def _cause(ops: list[Operation]) -> tuple[Cause, set[keyindex.Key], set[str]]:
    records: dict[str, tuple[str, int]] = {}
    keys: set[tuple[str, str]] = set()
    for op in ops:  # oldest first: a later operation's change of the same record wins
        for kind, vids in ((ADDED, op.added), (MODIFIED, op.modified), (WITHDRAWN, op.withdrawn)):
            for vid in vids:
                records[vid] = (kind, op.id)
        keys.update(op.keys)
    scores = [SCORE_SOURCES[op.source] for op in ops if op.source in SCORE_SOURCES]
    default = MODIFIED if records or not scores else scores[-1]
    return Cause(default, ops[-1].id, records), keyindex.normalized(keys), set(records)


@dataclass(slots=True)
class _Plan:
    since: int
    ops: list[Operation]
    cause: Cause
    keys: set[keyindex.Key]
    extra: dict[str, set[str]]
    ordered: list[str]  # resource ids, grouped by snapshot


def _plan(engine: sa.Engine, index: AdvisoryIndex, kb: KnowledgeBase, result: Result) -> _Plan | None:
    with engine.connect() as conn:
        since = cursor(conn)
    ops = kb.operations(since_op=since)
    if not ops:
        return None
    result.operations = [op.id for op in ops]
    cause, keys, record_ids = _cause(ops)
    with engine.connect() as conn:
        by_key = keyindex.resources_for(conn, keys)
        by_group = _by_group(conn, index, record_ids) if record_ids else {}
        by_score = _by_score(conn, index) if any(op.source in SCORE_SOURCES for op in ops) else {}
    extra: dict[str, set[str]] = defaultdict(set)
    for part in (by_group, by_score):
        for rid, pids in part.items():
            extra[rid] |= pids
    result.selected = {"byKey": len(by_key), "byGroup": len(by_group), "byScore": len(by_score)}
    return _Plan(since, ops, cause, keys, extra, _by_snapshot(engine, by_key | set(extra)))


def _finish(engine: sa.Engine, plan: _Plan, result: Result) -> None:
    ops = plan.ops
    with engine.begin() as conn:
        if advance(conn, plan.since, ops[-1].id):
            data = {"operations": result.operations, "sources": sorted({op.source for op in ops}),
                    "added": sum(len(op.added) for op in ops), "modified": sum(len(op.modified) for op in ops),
                    "withdrawn": sum(len(op.withdrawn) for op in ops)}
            for account in _accounts(conn):
                emit(conn, account, "vulnhound.knowledgebase.updated", None,
                     {**data, "resourcesReevaluated": result.per_account.get(account, 0)})


Spread = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]  # slice payloads -> their results


def incremental(engine: sa.Engine, index_factory: Callable[[], AdvisoryIndex], kb: KnowledgeBase,
                workers: int = 1, spread: Spread | None = None, slices: int = 1) -> Result:
    """Re-evaluate what the knowledge-base operations after the cursor touched; then advance the cursor.

    ``workers > 1`` splits the resources over that many forked processes (each matches through ``kb``);
    ``spread`` hands ``slices`` slices to the job system instead (Celery workers on any machine).
    """
    started = time.perf_counter()
    result = Result()
    index = CachingIndex(index_factory())
    plan = _plan(engine, index, kb, result)
    if plan is None:
        return result
    if spread is not None and slices > 1 and len(plan.ordered) > 1:
        for part in spread(_slice_payloads(plan, slices)):
            _merge(result, _result_of(part))
    elif workers > 1 and len(plan.ordered) > 1:
        _in_processes(engine, kb, plan.ordered, plan.keys, plan.extra, plan.cause, result, workers)
    else:
        _apply(engine, index, plan.ordered, plan.keys, plan.extra, plan.cause, result)
    _finish(engine, plan, result)
    result.seconds = time.perf_counter() - started
    return result


# -- slices as jobs ---------------------------------------------------------------------------------------------

def _slice_payloads(plan: _Plan, slices: int) -> list[dict[str, Any]]:
    """JSON payloads of ``reevaluate-slice`` jobs: contiguous runs of resources (one snapshot load each)."""
    step = -(-len(plan.ordered) // slices)
    cause = {"default": plan.cause.default, "kbOperation": plan.cause.kb_operation,
             "records": {vid: list(v) for vid, v in plan.cause.records.items()}}
    keys = sorted([e, n] for e, n in plan.keys)
    out = []
    for i in range(0, len(plan.ordered), step):
        rids = plan.ordered[i:i + step]
        out.append({"rids": rids, "keys": keys, "cause": cause, "upTo": plan.ops[-1].id,
                    "extra": {rid: sorted(plan.extra[rid]) for rid in rids if rid in plan.extra}})
    return out


def _result_of(part: dict[str, Any]) -> Result:
    return Result(resources=part["resourcesReevaluated"], skipped=part["skipped"],
                  changes=dict(part["findingChanges"]), causes=dict(part["causes"]),
                  per_account=dict(part.get("perAccount", {})))


def reevaluate_slice(engine: sa.Engine, index_factory: Callable[[], AdvisoryIndex],
                     payload: dict[str, Any]) -> Result:
    """One slice of an incremental run (idempotent: a re-run finds nothing left to change)."""
    c = payload["cause"]
    cause = Cause(c["default"], c["kbOperation"], {vid: (k, op) for vid, (k, op) in c["records"].items()})
    keys = {(e, n) for e, n in payload["keys"]}
    extra = {rid: set(pids) for rid, pids in payload["extra"].items()}
    result = Result()
    _apply(engine, CachingIndex(index_factory()), payload["rids"], keys, extra, cause, result)
    return result


def full(engine: sa.Engine, index_factory: Callable[[], AdvisoryIndex]) -> Result:
    """Re-match every live resource's latest snapshot in full (and rebuild its package keys): the safety net."""
    started = time.perf_counter()
    result = Result()
    index = CachingIndex(index_factory())
    with engine.connect() as conn:
        rids = list(conn.execute(sa.select(resources.c.id).where(
            resources.c.deleted_at.is_(None), resources.c.inventory_sha256.is_not(None)).order_by(
            resources.c.account_id, resources.c.inventory_sha256, resources.c.id)).scalars())
    result.selected = {"all": len(rids)}
    invs = _Inventories(engine)
    cause = Cause(FULL)
    for rid in rids:
        _one(engine, index, invs, rid, lambda _inv: None, cause, result)
    result.seconds = time.perf_counter() - started
    return result


# -- job handlers -----------------------------------------------------------------------------------------------

class Context(Protocol):
    """What the handlers use of the job system's ``JobContext``."""

    @property
    def engine(self) -> sa.Engine: ...

    @property
    def index(self) -> Callable[[], AdvisoryIndex]: ...

    @property
    def kb(self) -> Callable[[], KnowledgeBase]: ...


def handle_incremental(ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
    slices = int(payload.get("slices", 1))
    spread = (lambda parts: _spread_as_jobs(ctx, parts)) if slices > 1 else None
    return incremental(ctx.engine, ctx.index, ctx.kb(), int(payload.get("workers", 1)), spread, slices).as_dict()


def handle_slice(ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
    result = reevaluate_slice(ctx.engine, ctx.index, payload)
    return {**result.as_dict(), "perAccount": result.per_account}


def _spread_as_jobs(ctx: Context, parts: list[dict[str, Any]], timeout: float = 6 * 3600) -> list[dict[str, Any]]:
    """Queue the slices as jobs for every worker, and work on them here too (claims decide who runs each), so the
    parent never just waits while holding a worker; then collect their results. A failed slice fails the parent
    (its retry re-plans; finished slices then find nothing left to change)."""
    from vulnhound.service.db.tables import jobs
    from vulnhound.service.jobs import store
    from vulnhound.service.jobs.runner import run_job

    with ctx.engine.begin() as conn:
        ids = [store.enqueue(conn, "reevaluate-slice", p, dedupe_key=f"reevaluate-slice:{p['upTo']}:{i}")
               for i, p in enumerate(parts)]
    submit = getattr(ctx, "submit", None)
    for jid in ids:
        if submit is not None:
            submit(jid)
    for jid in ids:
        run_job(ctx, jid)  # type: ignore[arg-type]  # the jobs' JobContext satisfies Context and more
    deadline = time.monotonic() + timeout
    while True:
        with ctx.engine.connect() as conn:
            rows = {r.id: r for r in conn.execute(sa.select(jobs.c.id, jobs.c.status, jobs.c.result, jobs.c.error)
                                                  .where(jobs.c.id.in_(ids)))}
        failed = [r for r in rows.values() if r.status == "FAILED"]
        if failed:
            raise RuntimeError(f"re-evaluation slice {failed[0].id} failed: {failed[0].error}")
        if all(r.status == "SUCCEEDED" for r in rows.values()):
            return [dict(rows[j].result) for j in ids]
        for r in rows.values():
            if r.status == "QUEUED":  # a slice waiting out its retry backoff: take it when due, executor or not
                run_job(ctx, r.id)  # type: ignore[arg-type]
        if time.monotonic() > deadline:
            raise TimeoutError("re-evaluation slices did not finish")
        time.sleep(0.2)


def handle_full(ctx: Context, payload: dict[str, Any]) -> dict[str, Any]:
    return full(ctx.engine, ctx.index).as_dict()
