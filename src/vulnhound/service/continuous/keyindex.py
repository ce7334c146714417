"""The package-key index: which advisory lookup keys (ecosystem, normalized name) each resource's inventory has,
so a knowledge-base operation's touched keys select the resources to re-match with one indexed join.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

import sqlalchemy as sa

from vulnhound.inventory.model import Inventory
from vulnhound.matching.index import AdvisoryIndex
from vulnhound.matching.keys import Unsupported, keys_for, normalize_name
from vulnhound.matching.support import OS_TYPES
from vulnhound.service.db.tables import resource_package_keys, resources

Key = tuple[str, str]
_CHUNK = 500


def package_keys(inv: Inventory, index: AdvisoryIndex) -> set[Key]:
    """Every key the matcher looks this inventory up by (same rules: ``matching.keys.keys_for``)."""
    has_os = any(p.type in OS_TYPES for p in inv.packages)
    releases = index.distro_releases() if has_os else []
    out: set[Key] = set()
    for pkg in inv.packages:
        if pkg.os_owned_by and pkg.type not in OS_TYPES:
            continue  # matched through its owning OS package, as the matcher does
        try:
            out.update((k.ecosystem, k.name) for k in keys_for(pkg, inv.os, releases))
        except Unsupported:
            continue
    return out


def normalized(keys: Iterable[Key]) -> set[Key]:
    """Operation keys carry the records' spelling; the index holds the matcher's normalized names."""
    return {(eco, normalize_name(eco, name)) for eco, name in keys}


def replace(conn: sa.Connection, account_id: str, resource_id: str, keys: set[Key]) -> None:
    """Make the resource's rows exactly ``keys`` (writes only the difference: rescans mostly change nothing)."""
    t = resource_package_keys
    held = {(e, n) for e, n in conn.execute(sa.select(t.c.ecosystem, t.c.name).where(t.c.resource_id == resource_id))}
    stale = held - keys
    for eco, name in stale:
        conn.execute(t.delete().where(t.c.resource_id == resource_id, t.c.ecosystem == eco, t.c.name == name))
    fresh = [{"resource_id": resource_id, "ecosystem": e, "name": n, "account_id": account_id}
             for e, n in sorted(keys - held)]
    if fresh:
        conn.execute(t.insert(), fresh)


def resources_for(conn: sa.Connection, keys: Iterable[Key]) -> set[str]:
    """Live resources with a snapshot whose index holds any of ``keys`` (batched per ecosystem)."""
    t, r = resource_package_keys, resources
    by_eco: dict[str, list[str]] = defaultdict(list)
    for eco, name in sorted(set(keys)):
        by_eco[eco].append(name)
    out: set[str] = set()
    for eco, names in by_eco.items():
        for i in range(0, len(names), _CHUNK):
            q = (sa.select(t.c.resource_id).distinct().select_from(t.join(r, r.c.id == t.c.resource_id))
                 .where(t.c.ecosystem == eco, t.c.name.in_(names[i:i + _CHUNK]), r.c.deleted_at.is_(None),
                        r.c.inventory_sha256.is_not(None)))
            out.update(conn.execute(q).scalars())
    return out
