"""What the matcher needs from the knowledge base, as a protocol, plus an in-memory implementation.

The store (``advisories.store``) answers these lookups with indexed queries; ``MemoryIndex`` answers them from
a list of parsed records (tests, SBOM scans against a small snapshot, the accuracy gate).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from vulnhound.advisories.grouping import AliasGroups
from vulnhound.advisories.model import Advisory, Affected, DistroRelease, EpssScore, KevEntry
from vulnhound.matching.keys import normalize_name

if TYPE_CHECKING:
    from vulnhound.advisories.store.query import KnowledgeBase


@dataclass(frozen=True, slots=True)
class Candidate:
    advisory: Advisory
    affected: Affected
    operation: int | None = None  # knowledge-base update operation that last wrote the record


class AdvisoryIndex(Protocol):
    def candidates(self, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], list[Candidate]]:
        """(ecosystem, normalized name) → affected entries of non-withdrawn advisories."""
        ...

    def group_of(self, ids: Iterable[str]) -> dict[str, str]:
        """advisory id or alias → vulnerability group id."""
        ...

    def group_records(self, group_ids: Iterable[str]) -> dict[str, list[Advisory]]:
        """group id → every record of the group (all sources: NVD, GHSA, distro, ...)."""
        ...

    def kev(self, cve_ids: Iterable[str]) -> dict[str, KevEntry]: ...

    def epss(self, cve_ids: Iterable[str]) -> dict[str, EpssScore]: ...

    def distro_releases(self) -> list[DistroRelease]:
        """Release metadata (codename, end of life) known to the knowledge base."""
        ...

    def has_ecosystem(self, ecosystem: str) -> bool:
        """Does any record speak of this ecosystem (a distro release's advisories are present at all)?"""
        ...

    def operation_of(self, source: str, vuln_id: str) -> int | None:
        """The knowledge-base update operation that last wrote this record (after ``group_records``)."""
        ...


class MemoryIndex:
    """An AdvisoryIndex over records held in memory."""

    def __init__(
        self,
        advisories: Iterable[Advisory],
        kev: Iterable[KevEntry] = (),
        epss: Iterable[EpssScore] = (),
        releases: Iterable[DistroRelease] = (),
    ) -> None:
        self._by_key: dict[tuple[str, str], list[Candidate]] = {}
        self._records: dict[str, list[Advisory]] = {}
        groups = AliasGroups()
        for adv in advisories:
            groups.add(adv.id, adv.aliases)
            self._records.setdefault(adv.id, []).append(adv)
            if adv.withdrawn is not None:
                continue
            for aff in adv.affected:
                key = (aff.ecosystem, normalize_name(aff.ecosystem, aff.name))
                self._by_key.setdefault(key, []).append(Candidate(adv, aff))
        self._group = groups.mapping()
        self._members: dict[str, list[str]] = {}
        for member, gid in self._group.items():
            self._members.setdefault(gid, []).append(member)
        self._kev = {k.cve_id: k for k in kev}
        self._epss = {e.cve_id: e for e in epss}
        self._releases = list(releases)
        self._ecosystems = {eco for eco, _ in self._by_key}

    def candidates(self, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], list[Candidate]]:
        return {k: self._by_key[k] for k in keys if k in self._by_key}

    def group_of(self, ids: Iterable[str]) -> dict[str, str]:
        return {i: self._group.get(i, i) for i in ids}

    def group_records(self, group_ids: Iterable[str]) -> dict[str, list[Advisory]]:
        out: dict[str, list[Advisory]] = {}
        for gid in group_ids:
            out[gid] = [r for m in self._members.get(gid, [gid]) for r in self._records.get(m, [])]
        return out

    def kev(self, cve_ids: Iterable[str]) -> dict[str, KevEntry]:
        return {c: self._kev[c] for c in cve_ids if c in self._kev}

    def epss(self, cve_ids: Iterable[str]) -> dict[str, EpssScore]:
        return {c: self._epss[c] for c in cve_ids if c in self._epss}

    def distro_releases(self) -> list[DistroRelease]:
        return list(self._releases)

    def has_ecosystem(self, ecosystem: str) -> bool:
        return ecosystem in self._ecosystems

    def operation_of(self, source: str, vuln_id: str) -> int | None:
        return None  # records in memory were not written by a knowledge-base update


class StoreIndex:
    """An AdvisoryIndex over the knowledge base store (``vulnhound.advisories.store``)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self._group: dict[str, str] = {}
        self._ops: dict[tuple[str, str], int] = {}

    def candidates(self, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], list[Candidate]]:
        out: dict[tuple[str, str], list[Candidate]] = {}
        light: dict[tuple[str, str], Advisory] = {}
        for key, rows in self.kb.affected_for_many(keys).items():
            for row in rows:
                self._group[row.vuln_id] = row.group_id
                # A light record (one per record, shared): the full ones are read per matched group only.
                adv = light.get((row.source, row.vuln_id))
                if adv is None:
                    adv = light[(row.source, row.vuln_id)] = Advisory(id=row.vuln_id, source=row.source)
                out.setdefault(key, []).append(Candidate(adv, row.affected))
        return out

    def group_of(self, ids: Iterable[str]) -> dict[str, str]:
        return {i: self._group.get(i) or self.kb.group_of(i) or i for i in ids}

    def group_records(self, group_ids: Iterable[str]) -> dict[str, list[Advisory]]:
        # Batched queries per chunk instead of several per group: a scan can match thousands of groups.
        import sqlalchemy as sa

        from vulnhound.advisories.store import tables as t

        gids = sorted(set(group_ids))
        out: dict[str, list[Advisory]] = {g: [] for g in gids}
        member_of: dict[str, str] = {}
        with self.kb.engine.connect() as conn:
            for i in range(0, len(gids), 500):
                chunk = gids[i:i + 500]
                member_of.update({m: g for m, g in conn.execute(
                    sa.select(t.ids.c.id, t.ids.c.group_id).where(t.ids.c.group_id.in_(chunk)))})
        for g in gids:
            member_of.setdefault(g, g)
        # The affected entries that matter are the candidates'; records here carry the rest.
        for adv, op in self.kb.records(member_of):
            self._ops[(adv.source, adv.id)] = op
            out[member_of[adv.id]].append(adv)
        return out

    def operation_of(self, source: str, vuln_id: str) -> int | None:
        return self._ops.get((source, vuln_id))

    def kev(self, cve_ids: Iterable[str]) -> dict[str, KevEntry]:
        return self.kb.kev(cve_ids)

    def epss(self, cve_ids: Iterable[str]) -> dict[str, EpssScore]:
        return self.kb.epss(cve_ids)

    def distro_releases(self) -> list[DistroRelease]:
        return self.kb.distro_releases()

    def has_ecosystem(self, ecosystem: str) -> bool:
        return self.kb.has_ecosystem(ecosystem)
