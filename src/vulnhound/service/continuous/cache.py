"""A per-run memo over an AdvisoryIndex: one re-evaluation asks the same keys, groups and CVEs for many resources,
so each is read from the knowledge base once per run (the run sees one consistent state, as a scan does).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from typing import TypeVar

from vulnhound.advisories.model import Advisory, DistroRelease, EpssScore, KevEntry
from vulnhound.matching.index import AdvisoryIndex, Candidate

K = TypeVar("K")
V = TypeVar("V")


def _fill(memo: dict[K, V | None], wanted: Iterable[K], fetch: dict[K, V]) -> None:
    for k in wanted:
        memo[k] = fetch.get(k)


class CachingIndex:
    """An AdvisoryIndex that remembers every answer of the index it wraps (misses too)."""

    def __init__(self, inner: AdvisoryIndex) -> None:
        self.inner = inner
        self._cands: dict[tuple[str, str], list[Candidate] | None] = {}
        self._group: dict[str, str | None] = {}
        self._records: dict[str, list[Advisory] | None] = {}
        self._kev: dict[str, KevEntry | None] = {}
        self._epss: dict[str, EpssScore | None] = {}
        self._releases: list[DistroRelease] | None = None
        self._ecos: dict[str, bool] = {}

    def candidates(self, keys: Collection[tuple[str, str]]) -> dict[tuple[str, str], list[Candidate]]:
        missing = [k for k in keys if k not in self._cands]
        if missing:
            _fill(self._cands, missing, self.inner.candidates(missing))
        return {k: c for k in keys if (c := self._cands[k])}

    def group_of(self, ids: Iterable[str]) -> dict[str, str]:
        wanted = list(ids)
        missing = [i for i in wanted if i not in self._group]
        if missing:
            _fill(self._group, missing, self.inner.group_of(missing))
        return {i: self._group[i] or i for i in wanted}

    def group_records(self, group_ids: Iterable[str]) -> dict[str, list[Advisory]]:
        wanted = list(group_ids)
        missing = [g for g in wanted if g not in self._records]
        if missing:
            _fill(self._records, missing, self.inner.group_records(missing))
        return {g: self._records[g] or [] for g in wanted}

    def kev(self, cve_ids: Iterable[str]) -> dict[str, KevEntry]:
        wanted = list(cve_ids)
        missing = [c for c in wanted if c not in self._kev]
        if missing:
            _fill(self._kev, missing, self.inner.kev(missing))
        return {c: e for c in wanted if (e := self._kev[c]) is not None}

    def epss(self, cve_ids: Iterable[str]) -> dict[str, EpssScore]:
        wanted = list(cve_ids)
        missing = [c for c in wanted if c not in self._epss]
        if missing:
            _fill(self._epss, missing, self.inner.epss(missing))
        return {c: e for c in wanted if (e := self._epss[c]) is not None}

    def distro_releases(self) -> list[DistroRelease]:
        if self._releases is None:
            self._releases = self.inner.distro_releases()
        return self._releases

    def has_ecosystem(self, ecosystem: str) -> bool:
        if ecosystem not in self._ecos:
            self._ecos[ecosystem] = self.inner.has_ecosystem(ecosystem)
        return self._ecos[ecosystem]

    def operation_of(self, source: str, vuln_id: str) -> int | None:
        return self.inner.operation_of(source, vuln_id)
