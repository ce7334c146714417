"""Named positions in ``service_cursors``: how far a follower (re-evaluation of knowledge-base operations, NATS
publishing of events) has got. Read, set, and compare-and-set for followers that may race."""

from __future__ import annotations

import sqlalchemy as sa

from vulnhound.service.db.tables import service_cursors as c
from vulnhound.service.domain.common import now


def read(conn: sa.Connection, name: str) -> int:
    pos = conn.execute(sa.select(c.c.position).where(c.c.name == name)).scalar()
    return int(pos or 0)


def write(conn: sa.Connection, name: str, position: int) -> None:
    if not conn.execute(sa.update(c).where(c.c.name == name).values(position=position, updated_at=now())).rowcount:
        conn.execute(c.insert().values(name=name, position=position, updated_at=now()))


def advance(conn: sa.Connection, name: str, since: int, to: int) -> bool:
    """Compare-and-set from ``since`` to ``to``: False when another follower moved the cursor first."""
    if conn.execute(sa.select(c.c.name).where(c.c.name == name).with_for_update()).first() is None:
        conn.execute(c.insert().values(name=name, position=to, updated_at=now()))
        return since == 0
    return bool(conn.execute(sa.update(c).where(c.c.name == name, c.c.position == since).values(
        position=to, updated_at=now())).rowcount)
