"""Read API over the knowledge base for the matcher, the CLI and the service.

``affected_for_many`` is the matcher's hot path: one indexed query per (ecosystem, ≤500 names) chunk, rows decoded
into ``Affected`` once per distinct row (cached); withdrawn records are left out unless asked for.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from vulnhound.advisories.model import Advisory, Affected, DistroRelease, EpssScore, KevEntry
from vulnhound.advisories.store import tables as t
from vulnhound.advisories.store.codec import decode, decode_affected, name_key

_CHUNK = 500


@dataclass(frozen=True, slots=True)
class AffectedRow:
    """One affected package of one record, with the record's id, source and vulnerability group."""

    vuln_id: str
    source: str
    group_id: str
    affected: Affected


@dataclass(slots=True)
class Operation:
    id: int
    source: str
    started_at: str
    finished_at: str
    mode: str
    description: str
    etag: str | None
    counts: dict[str, int]
    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    keys: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class SourceStatus:
    name: str
    last_update: str | None
    record_count: int
    last_op: int | None
    rejects: dict[str, int]
    age_hours: float | None
    etag: str | None
    cursor: str | None
    last_counts: dict[str, int] = field(default_factory=dict)  # the last operation's counts (kev, epss, ...)


class KnowledgeBase:
    """Queries over one open engine. Cheap to create; keeps caches of decoded affected rows and records."""

    # Decoded rows keyed by their stored JSON text: a long-running matcher decodes each distinct row once.
    # Changed rows have different text, so the cache never serves stale data. Treat returned objects as read-only.
    DECODE_CACHE_MAX = 300_000

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self._decoded: dict[str, Affected] = {}
        self._records: dict[tuple[str, str, str], Advisory] = {}

    def records(self, ids: Iterable[str]) -> list[tuple[Advisory, int]]:
        """Every source's record of these ids, without affected entries, with the operation that last wrote it.

        Decoded records are kept by (source, id, content hash): a warm matcher reads only the small columns of a
        record it has seen, and a changed record (new hash) is decoded afresh.
        """
        v = t.vulns
        out: list[tuple[Advisory, int]] = []
        wanted = sorted(set(ids))
        with self.engine.connect() as conn:
            for i in range(0, len(wanted), _CHUNK):
                chunk = wanted[i:i + _CHUNK]
                stamps = conn.execute(sa.select(v.c.source, v.c.id, v.c.content_hash, v.c.op_id).where(
                    v.c.id.in_(chunk))).all()
                missing = {(s, vid) for s, vid, h, _ in stamps if (s, vid, h) not in self._records}
                if missing:
                    q = sa.select(v).where(v.c.id.in_(sorted({vid for _, vid in missing})))
                    for row in conn.execute(q).mappings():
                        if (row["source"], row["id"]) in missing:
                            if len(self._records) >= self.DECODE_CACHE_MAX:
                                self._records.clear()
                            self._records[(row["source"], row["id"], row["content_hash"])] = decode(row, [])
                for s, vid, h, op in stamps:
                    adv = self._records.get((s, vid, h))
                    if adv is None:  # rewritten between the two reads: decode this one directly
                        fresh = conn.execute(sa.select(v).where(v.c.source == s, v.c.id == vid)).mappings().first()
                        if fresh is None:
                            continue
                        adv, op = decode(fresh, []), fresh["op_id"]
                    out.append((adv, int(op)))
        return out

    def _affected(self, data: str) -> Affected:
        aff = self._decoded.get(data)
        if aff is None:
            if len(self._decoded) >= self.DECODE_CACHE_MAX:
                self._decoded.clear()
            aff = self._decoded[data] = decode_affected(data)
        return aff

    # -- matcher ---------------------------------------------------------------------------------------------
    def affected_for(self, ecosystem: str, name: str, include_withdrawn: bool = False) -> list[AffectedRow]:
        return self.affected_for_many([(ecosystem, name)], include_withdrawn).get((ecosystem, name), [])

    def affected_for_many(self, keys: Iterable[tuple[str, str]], include_withdrawn: bool = False
                          ) -> dict[tuple[str, str], list[AffectedRow]]:
        """(ecosystem, name) → affected rows, for many keys at once; names compare by ``name_key``."""
        wanted: dict[str, dict[str, list[tuple[str, str]]]] = defaultdict(lambda: defaultdict(list))
        for eco, name in keys:
            wanted[eco][name_key(eco, name)].append((eco, name))
        out: dict[tuple[str, str], list[AffectedRow]] = {}
        a, ids = t.affected, t.ids
        with self.engine.connect() as conn:
            for eco, by_key in wanted.items():
                names = list(by_key)
                for i in range(0, len(names), _CHUNK):
                    q = (sa.select(a.c.name_key, a.c.vuln_id, a.c.source, ids.c.group_id, a.c.data)
                         .select_from(a.outerjoin(ids, ids.c.id == a.c.vuln_id))
                         .where(a.c.ecosystem == eco, a.c.name_key.in_(names[i:i + _CHUNK])))
                    if not include_withdrawn:
                        q = q.where(a.c.withdrawn.is_(False))
                    for nk, vid, src, gid, data in conn.execute(q):
                        row = AffectedRow(vid, src, gid or vid, self._affected(data))
                        for key in by_key[nk]:
                            out.setdefault(key, []).append(row)
        return out

    def ecosystems(self) -> list[str]:
        with self.engine.connect() as conn:
            return [e for (e,) in conn.execute(sa.select(t.affected.c.ecosystem).distinct().order_by(
                t.affected.c.ecosystem))]

    # -- records and groups ----------------------------------------------------------------------------------
    def advisory(self, vid: str) -> list[Advisory]:
        """Every source's record with this exact id (provenance in ``provenance``)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(t.vulns).where(t.vulns.c.id == vid).order_by(t.vulns.c.source)).mappings()
            out = []
            for row in rows.all():
                aff = conn.execute(sa.select(t.affected.c.data).where(
                    t.affected.c.source == row["source"], t.affected.c.vuln_id == vid).order_by(t.affected.c.pk))
                out.append(decode(row, [d for (d,) in aff]))
        return out

    def provenance(self, vid: str) -> list[dict[str, Any]]:
        """Per source holding ``vid``: the operation that last wrote it and when."""
        v, o = t.vulns, t.operations
        q = (sa.select(v.c.source, v.c.op_id, v.c.content_hash, o.c.finished_at, o.c.description)
             .select_from(v.outerjoin(o, o.c.id == v.c.op_id)).where(v.c.id == vid))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(q).mappings()]

    def group_of(self, vid: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(t.ids.c.group_id).where(t.ids.c.id == vid)).scalar_one_or_none()

    def group_members(self, group: str) -> list[str]:
        with self.engine.connect() as conn:
            return sorted(conn.execute(sa.select(t.ids.c.id).where(t.ids.c.group_id == group)).scalars())

    def group_records(self, group: str) -> list[Advisory]:
        """All stored records (every source) of a group's members."""
        return [a for m in self.group_members(group) for a in self.advisory(m)]

    # -- side tables -----------------------------------------------------------------------------------------
    def kev(self, cve_ids: Iterable[str]) -> dict[str, KevEntry]:
        out: dict[str, KevEntry] = {}
        ids = sorted(set(cve_ids))
        with self.engine.connect() as conn:
            for i in range(0, len(ids), _CHUNK):
                for cve, data in conn.execute(sa.select(t.kev.c.cve_id, t.kev.c.data).where(
                        t.kev.c.cve_id.in_(ids[i:i + _CHUNK]))):
                    out[cve] = KevEntry(**json.loads(data))
        return out

    def epss(self, cve_ids: Iterable[str]) -> dict[str, EpssScore]:
        out: dict[str, EpssScore] = {}
        ids = sorted(set(cve_ids))
        e = t.epss
        with self.engine.connect() as conn:
            for i in range(0, len(ids), _CHUNK):
                q = sa.select(e.c.cve_id, e.c.score, e.c.percentile, e.c.model_version, e.c.score_date).where(
                    e.c.cve_id.in_(ids[i:i + _CHUNK]))
                for cve, score, pct, model, date in conn.execute(q):
                    out[cve] = EpssScore(cve, score, pct, model, date)
        return out

    def has_ecosystem(self, ecosystem: str) -> bool:
        """Does any stored record speak of this ecosystem (distro release)? One indexed probe."""
        a = t.affected
        with self.engine.connect() as conn:
            q = sa.select(a.c.pk).where(a.c.ecosystem == ecosystem).limit(1)
            return conn.execute(q).first() is not None

    def distro_releases(self, distro: str | None = None) -> list[DistroRelease]:
        """Release metadata (codename, end of life, OSV ecosystem) the feeds stored, for the matcher's EOL check."""
        d = t.distro_releases
        q = sa.select(d.c.distro, d.c.version, d.c.codename, d.c.eol, d.c.ecosystem).order_by(d.c.distro, d.c.version)
        if distro:
            q = q.where(d.c.distro == distro)
        with self.engine.connect() as conn:
            return [DistroRelease(*row) for row in conn.execute(q)]

    # -- operations and status -------------------------------------------------------------------------------
    def operation(self, op_id: int) -> Operation | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(t.operations).where(t.operations.c.id == op_id)).mappings().first()
            if row is None:
                return None
            op = Operation(row["id"], row["source"], row["started_at"], row["finished_at"], row["mode"],
                           row["description"], row["etag"], json.loads(row["counts"]))
            for vid, change in conn.execute(sa.select(t.op_changes.c.vuln_id, t.op_changes.c.change).where(
                    t.op_changes.c.op_id == op_id).order_by(t.op_changes.c.vuln_id)):
                getattr(op, change).append(vid)
            op.keys = [(e, n) for e, n in conn.execute(sa.select(t.op_keys.c.ecosystem, t.op_keys.c.name).where(
                t.op_keys.c.op_id == op_id).order_by(t.op_keys.c.ecosystem, t.op_keys.c.name))]
        return op

    def operations(self, source: str | None = None, since_op: int = 0) -> list[Operation]:
        """Operations after ``since_op`` (for a source, or all), oldest first — what changed since a scan."""
        q = sa.select(t.operations.c.id).where(t.operations.c.id > since_op).order_by(t.operations.c.id)
        if source:
            q = q.where(t.operations.c.source == source)
        with self.engine.connect() as conn:
            op_ids = list(conn.execute(q).scalars())
        return [op for i in op_ids if (op := self.operation(i)) is not None]

    def status(self) -> list[SourceStatus]:
        now = datetime.now(UTC)
        with self.engine.connect() as conn:
            rej: dict[str, dict[str, int]] = defaultdict(dict)
            q = sa.select(t.rejects.c.source, t.rejects.c.reason, sa.func.count()).group_by(
                t.rejects.c.source, t.rejects.c.reason)
            for src, reason, n in conn.execute(q):
                rej[src][reason] = int(n)
            out = []
            q2 = (sa.select(t.sources, t.operations.c.counts)
                  .select_from(t.sources.outerjoin(t.operations, t.operations.c.id == t.sources.c.last_op))
                  .order_by(t.sources.c.name))
            for r in conn.execute(q2).mappings():
                age = None
                if r["last_update"]:
                    age = (now - datetime.fromisoformat(r["last_update"])).total_seconds() / 3600
                out.append(SourceStatus(r["name"], r["last_update"], r["record_count"], r["last_op"],
                                        dict(rej.get(r["name"], {})), age, r["etag"], r["cursor"],
                                        json.loads(r["counts"]) if r["counts"] else {}))
        return out

    def counts(self) -> dict[str, int]:
        """Row counts of the main tables (status summary, bench)."""
        out: dict[str, int] = {}
        with self.engine.connect() as conn:
            for tbl in (t.vulns, t.affected, t.ids, t.kev, t.epss, t.rejects, t.operations):
                out[tbl.name] = int(conn.execute(sa.select(sa.func.count()).select_from(tbl)).scalar_one())
        return out
