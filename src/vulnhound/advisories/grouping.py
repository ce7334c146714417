"""Alias grouping: CVE ↔ GHSA ↔ PYSEC ↔ GO ↔ RUSTSEC ↔ distro ids resolve to one vulnerability group.

Union-find over each record's id and aliases. The group's id is its CVE when it has exactly one, otherwise
the smallest id in a fixed preference order, so the same records always give the same group id.
"""

from __future__ import annotations

from collections.abc import Iterable

_PREFERENCE = ("CVE-", "GHSA-", "PYSEC-", "GO-", "RUSTSEC-", "GMS-", "OSV-")


class AliasGroups:
    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def _find(self, x: str) -> str:
        parent = self._parent
        parent.setdefault(x, x)
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def add(self, record_id: str, aliases: Iterable[str]) -> None:
        root = self._find(record_id)
        for alias in aliases:
            other = self._find(alias)
            if other != root:
                self._parent[other] = root

    def groups(self) -> dict[str, list[str]]:
        """group id → sorted member ids."""
        members: dict[str, list[str]] = {}
        for x in list(self._parent):
            members.setdefault(self._find(x), []).append(x)
        return {group_id(m): sorted(m) for m in members.values()}

    def mapping(self) -> dict[str, str]:
        """member id → group id."""
        out: dict[str, str] = {}
        for gid, members in self.groups().items():
            for m in members:
                out[m] = gid
        return out


def group_id(members: Iterable[str]) -> str:
    ids = sorted(set(members))
    cves = [m for m in ids if m.startswith("CVE-")]
    if len(cves) == 1:
        return cves[0]

    def rank(m: str) -> tuple[int, str]:
        for i, prefix in enumerate(_PREFERENCE):
            if m.startswith(prefix):
                return (i, m)
        return (len(_PREFERENCE), m)

    return min(ids, key=rank)
