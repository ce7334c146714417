"""Import one source's parsed items as ONE recorded operation in ONE transaction, with its diff.

Full snapshots replace the source: records missing from them count as withdrawn and are removed. Partial
snapshots (incremental fetches) only add and modify. A process killed mid-import leaves the previous state,
because nothing is committed before the end (SQLite WAL, PostgreSQL MVCC).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa

from vulnhound.advisories.feeds.interface import FetchState
from vulnhound.advisories.grouping import AliasGroups
from vulnhound.advisories.model import Advisory, DistroRelease, EpssScore, KevEntry, ParsedItem, Reject
from vulnhound.advisories.store import tables as t
from vulnhound.advisories.store.codec import EncodedAdvisory, dumps, encode

T = TypeVar("T")
_CHUNK = 500


def _chunks(seq: Sequence[T], size: int = _CHUNK) -> Iterator[Sequence[T]]:
    for i in range(0, len(seq), size):
        yield seq[i:i + size]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(slots=True)
class OperationResult:
    """What one update did to one source."""

    source: str
    op_id: int | None
    mode: str  # "full" | "partial" | "unchanged"
    added: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    keys: set[tuple[str, str]] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)
    description: str = ""


def _state_row(state: FetchState | None) -> dict[str, Any]:
    s = state or FetchState()
    return {"etag": s.etag, "last_modified": s.last_modified, "cursor": s.cursor, "extra": dumps(s.extra)}


def _upsert_source(conn: sa.Connection, name: str, values: dict[str, Any]) -> None:
    found = conn.execute(sa.select(t.sources.c.name).where(t.sources.c.name == name)).first()
    if found:
        conn.execute(t.sources.update().where(t.sources.c.name == name).values(**values))
    else:
        conn.execute(t.sources.insert().values(name=name, **{"extra": "{}", "record_count": 0, **values}))


def record_unchanged(engine: sa.Engine, source: str, description: str, state: FetchState | None = None) -> None:
    """A 304 / same-fingerprint update: refresh the source's last check time, no operation recorded."""
    with engine.begin() as conn:
        values: dict[str, Any] = {"last_update": now_iso()}
        if state is not None:
            values.update(_state_row(state))
        _upsert_source(conn, source, values)


def _old_keys(conn: sa.Connection, source: str, vids: list[str]) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for part in _chunks(vids):
        q = sa.select(t.affected.c.ecosystem, t.affected.c.name).where(
            t.affected.c.source == source, t.affected.c.vuln_id.in_(part))
        out.update((e, n) for e, n in conn.execute(q))
    return out


def _delete_records(conn: sa.Connection, source: str, vids: list[str]) -> None:
    for part in _chunks(vids):
        conn.execute(t.affected.delete().where(t.affected.c.source == source, t.affected.c.vuln_id.in_(part)))
        conn.execute(t.vulns.delete().where(t.vulns.c.source == source, t.vulns.c.id.in_(part)))


def recompute_groups(conn: sa.Connection) -> int:
    """Union-find over every record's id and aliases; writes only the ids whose group changed. Returns that count."""
    uf = AliasGroups()
    for vid, aliases in conn.execute(sa.select(t.vulns.c.id, t.vulns.c.aliases)):
        uf.add(vid, json.loads(aliases))
    new = uf.mapping()
    old: dict[str, str] = {i: g for i, g in conn.execute(sa.select(t.ids.c.id, t.ids.c.group_id))}
    stale = [i for i, g in old.items() if new.get(i) != g]
    fresh = [{"id": i, "group_id": g} for i, g in new.items() if old.get(i) != g]
    for part in _chunks(stale):
        conn.execute(t.ids.delete().where(t.ids.c.id.in_(part)))
    for rows in _chunks(fresh, 5000):
        conn.execute(t.ids.insert(), list(rows))
    return len(stale) + len(fresh)


def _merge(into: Advisory, other: Advisory) -> None:
    into.affected.extend(other.affected)
    into.aliases = tuple(dict.fromkeys((*into.aliases, *other.aliases)))
    into.related = tuple(dict.fromkeys((*into.related, *other.related)))
    into.references = tuple(dict.fromkeys((*into.references, *other.references)))
    if other.modified and (into.modified is None or other.modified > into.modified):
        into.modified = other.modified


def import_items(
    engine: sa.Engine,
    source: str,
    items: Iterable[ParsedItem],
    *,
    partial: bool = False,
    description: str = "",
    state: FetchState | None = None,
    fingerprint: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> OperationResult:
    """Store one snapshot of ``source`` as one operation; returns its diff. Never half-applies."""
    started = now_iso()
    res = OperationResult(source, None, "partial" if partial else "full", description=description)
    with engine.begin() as conn:
        existing: dict[str, tuple[str, bool]] = {
            vid: (h, w is not None) for vid, h, w in conn.execute(
                sa.select(t.vulns.c.id, t.vulns.c.content_hash, t.vulns.c.withdrawn).where(t.vulns.c.source == source))
        }
        records: dict[str, Advisory] = {}
        rejects: list[Reject] = []
        kevs: list[KevEntry] = []
        scores: list[EpssScore] = []
        releases: list[DistroRelease] = []
        merged = 0
        for n, item in enumerate(items, 1):
            if progress is not None and n % 200 == 0:
                progress(n)
            if isinstance(item, Advisory):
                item.source = source  # the operation's source owns what it imported (mirror renames)
                first = records.get(item.id)
                if first is None:
                    records[item.id] = item
                else:
                    # One id per release in some trees (AlmaLinux ALSA-x in almalinux8/ and 9/): one record.
                    _merge(first, item)
                    merged += 1
            elif isinstance(item, Reject):
                rejects.append(item)
            elif isinstance(item, KevEntry):
                kevs.append(item)
            elif isinstance(item, EpssScore):
                scores.append(item)
            elif isinstance(item, DistroRelease):
                releases.append(item)
        fresh: dict[str, EncodedAdvisory] = {}
        unchanged = 0
        for vid, adv in records.items():
            enc = encode(adv)
            old = existing.get(vid)
            if old is not None and old[0] == enc.row["content_hash"]:
                unchanged += 1
                fresh[vid] = EncodedAdvisory({}, [], set())  # seen, nothing to write
                continue
            fresh[vid] = enc
            if old is None:
                res.added.append(vid)
            elif enc.row["withdrawn"] and not old[1]:
                res.withdrawn.append(vid)
            else:
                res.modified.append(vid)
        gone = [] if partial else sorted(set(existing) - set(fresh))
        replaced = [vid for vid in (*res.modified, *res.withdrawn)]
        res.keys = _old_keys(conn, source, [*replaced, *gone])
        _delete_records(conn, source, [*replaced, *gone])
        res.withdrawn.extend(gone)

        op_id: Any = conn.execute(t.operations.insert().values(
            source=source, started_at=started, finished_at=started, mode=res.mode, description=description,
            etag=state.etag if state else None, counts="{}",
        )).inserted_primary_key
        assert op_id is not None
        op_id = int(op_id[0])
        res.op_id = op_id
        writes = [e for e in fresh.values() if e.row]
        for batch in _chunks(writes, 1000):
            conn.execute(t.vulns.insert(), [{**e.row, "op_id": op_id} for e in batch])
            aff = [a for e in batch for a in e.affected]
            if aff:
                conn.execute(t.affected.insert(), aff)
            for e in batch:
                res.keys |= e.keys
        _replace_side_tables(conn, source, kevs, scores, releases, partial)
        if not partial:
            conn.execute(t.rejects.delete().where(t.rejects.c.source == source))
        for rej_batch in _chunks(rejects, 2000):
            conn.execute(t.rejects.insert(), [
                {"source": source, "op_id": op_id, "location": r.location, "reason": r.reason} for r in rej_batch])
        regrouped = recompute_groups(conn) if (writes or gone) else 0
        changes = [{"op_id": op_id, "vuln_id": v, "change": c} for c, vs in
                   (("added", res.added), ("modified", res.modified), ("withdrawn", res.withdrawn)) for v in vs]
        for rows in _chunks(changes, 5000):
            conn.execute(t.op_changes.insert(), list(rows))
        keys = [{"op_id": op_id, "ecosystem": e, "name": n} for e, n in sorted(res.keys)]
        for rows in _chunks(keys, 5000):
            conn.execute(t.op_keys.insert(), list(rows))
        count = conn.execute(sa.select(sa.func.count()).select_from(t.vulns).where(t.vulns.c.source == source))
        total = int(count.scalar_one())
        res.counts = {
            "records": total, "added": len(res.added), "modified": len(res.modified),
            "withdrawn": len(res.withdrawn), "unchanged": unchanged, "merged": merged,
            "rejects": len(rejects),
            "kev": len(kevs), "epss": len(scores), "releases": len(releases), "keys": len(res.keys),
            "regrouped": regrouped,
        }
        conn.execute(t.operations.update().where(t.operations.c.id == op_id).values(
            finished_at=now_iso(), counts=dumps(res.counts)))
        values: dict[str, Any] = {"last_update": now_iso(), "last_op": op_id, "record_count": total,
                                  "fingerprint": fingerprint}
        if state is not None:
            values.update(_state_row(state))
        _upsert_source(conn, source, values)
    return res


def _replace_side_tables(conn: sa.Connection, source: str, kevs: list[KevEntry], scores: list[EpssScore],
                         releases: list[DistroRelease], partial: bool) -> None:
    # KEV, EPSS and release metadata are whole-catalog snapshots: a full import replaces the source's rows.
    if kevs or not partial:
        conn.execute(t.kev.delete().where(t.kev.c.source == source))
        by_id = {k.cve_id: k for k in kevs}
        for batch in _chunks(list(by_id.values()), 2000):
            conn.execute(t.kev.delete().where(t.kev.c.cve_id.in_([k.cve_id for k in batch])))
            conn.execute(t.kev.insert(), [{"cve_id": k.cve_id, "source": source, "data": dumps(asdict(k))}
                                          for k in batch])
    if scores or not partial:
        conn.execute(t.epss.delete().where(t.epss.c.source == source))
        by_cve = {s.cve_id: s for s in scores}
        for score_batch in _chunks(list(by_cve.values()), 20000):
            conn.execute(t.epss.delete().where(t.epss.c.cve_id.in_([s.cve_id for s in score_batch])))
            conn.execute(t.epss.insert(), [
                {"cve_id": s.cve_id, "source": source, "score": s.score, "percentile": s.percentile,
                 "model_version": s.model_version, "score_date": s.score_date} for s in score_batch])
    if releases or not partial:
        conn.execute(t.distro_releases.delete().where(t.distro_releases.c.source == source))
        by_key = {(r.distro, r.version): r for r in releases}
        for r in by_key.values():
            conn.execute(t.distro_releases.delete().where(t.distro_releases.c.distro == r.distro,
                                                          t.distro_releases.c.version == r.version))
        if by_key:
            conn.execute(t.distro_releases.insert(), [
                {"distro": r.distro, "version": r.version, "source": source, "codename": r.codename,
                 "eol": r.eol, "ecosystem": r.ecosystem} for r in by_key.values()])
