"""The event outbox: ``emit`` writes an event row inside the caller's transaction, so an event exists exactly when
the change it reports committed; ``envelope`` turns a row into a CloudEvents 1.0 structured JSON document.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from vulnhound import __version__
from vulnhound.service.db.tables import events
from vulnhound.service.domain.common import now

SOURCE = "urn:vulnhound"
TYPES = (
    "vulnhound.finding.created", "vulnhound.finding.updated", "vulnhound.finding.closed",
    "vulnhound.finding.reopened", "vulnhound.finding.suppressed", "vulnhound.finding.unsuppressed",
    "vulnhound.scan.completed", "vulnhound.scan.failed", "vulnhound.coverage.changed",
    "vulnhound.knowledgebase.updated",
)


def event_row(account_id: str, type_: str, subject: str | None, data: dict[str, Any],
              time: str | None = None) -> dict[str, Any]:
    if type_ not in TYPES:
        raise ValueError(f"unknown event type {type_!r}")
    return {"id": str(uuid.uuid4()), "account_id": account_id, "type": type_, "subject": subject,
            "time": time or now(), "data": data}


def emit(conn: sa.Connection, account_id: str, type_: str, subject: str | None, data: dict[str, Any],
         time: str | None = None) -> None:
    """Record one event in the caller's transaction."""
    conn.execute(events.insert().values(**event_row(account_id, type_, subject, data, time)))


def emit_many(conn: sa.Connection, rows: Iterable[dict[str, Any]]) -> int:
    """Record events built with ``event_row`` in one statement; returns how many."""
    batch = list(rows)
    if batch:
        conn.execute(events.insert(), batch)
    return len(batch)


def envelope(row: Any) -> dict[str, Any]:
    """CloudEvents 1.0 (structured mode, JSON): required attributes plus subject, time and the sequence."""
    return {"specversion": "1.0", "id": row["id"], "source": f"{SOURCE}:account:{row['account_id']}",
            "type": row["type"], "subject": row["subject"], "time": row["time"],
            "datacontenttype": "application/json", "vulnhoundseq": row["seq"],
            "vulnhoundversion": __version__, "data": row["data"]}
