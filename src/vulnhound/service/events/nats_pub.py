"""Optional publishing of every event to NATS JetStream (``--nats nats://host:4222``).

Subjects are ``<prefix>.<account>.<type without "vulnhound.">`` (``vulnhound.<account>.finding.created``) in the
stream ``VULNHOUND`` (created when missing, capturing ``<prefix>.>``). At least once: the cursor
(``service_cursors["nats"]``) moves only after JetStream acknowledged a batch; a batch resent after a crash is
dropped by JetStream's de-duplication on ``Nats-Msg-Id`` = the event id (within the stream's duplicate window).
Events are published in seq order, up to the outbox's safe watermark.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from typing import Any

import sqlalchemy as sa

from vulnhound.service.db.cursors import read as read_cursor
from vulnhound.service.db.cursors import write as write_cursor
from vulnhound.service.db.tables import events
from vulnhound.service.events.outbox import envelope
from vulnhound.service.events.watermark import Watermark

log = logging.getLogger(__name__)


def subject_for(prefix: str, account_id: str, type_: str) -> str:
    return f"{prefix}.{account_id}.{type_.removeprefix('vulnhound.')}"


class NatsPublisher:
    def __init__(self, engine: sa.Engine, url: str, stream: str = "VULNHOUND", prefix: str = "vulnhound",
                 cursor: str = "nats", batch: int = 500, duplicate_window: float = 600.0) -> None:
        self.engine, self.url, self.stream, self.prefix = engine, url, stream, prefix
        self.cursor, self.batch, self.duplicate_window = cursor, batch, duplicate_window
        self.watermark = Watermark()
        self.nc: Any = None
        self.js: Any = None
        self.duplicates = 0  # acks JetStream flagged as duplicates (a resend after a crash, or a test)

    async def connect(self) -> None:
        import nats
        from nats.js.errors import NotFoundError

        self.nc = await nats.connect(self.url, connect_timeout=5, max_reconnect_attempts=-1)
        self.js = self.nc.jetstream()
        try:
            await self.js.stream_info(self.stream)
        except NotFoundError:
            await self.js.add_stream(name=self.stream, subjects=[f"{self.prefix}.>"],
                                     duplicate_window=self.duplicate_window)

    async def close(self) -> None:
        if self.nc is not None:
            await self.nc.close()
            self.nc = self.js = None

    async def publish_pending(self) -> int:
        """Publish everything after the cursor up to the watermark; returns how many were published."""
        if self.js is None:
            await self.connect()
        total = 0
        while True:
            with self.engine.connect() as conn:
                pos = read_cursor(conn, self.cursor)
                safe = self.watermark.advance(conn, floor=pos)
                rows = conn.execute(sa.select(events).where(events.c.seq > pos, events.c.seq <= safe)
                                    .order_by(events.c.seq).limit(self.batch)).mappings().all()
            if not rows:
                return total
            acks = await asyncio.gather(*(self._publish(r) for r in rows))
            self.duplicates += sum(1 for a in acks if a.duplicate)
            with self.engine.begin() as conn:
                write_cursor(conn, self.cursor, rows[-1]["seq"])
            total += len(rows)

    async def _publish(self, row: Any) -> Any:
        body = json.dumps(envelope(row), separators=(",", ":"), ensure_ascii=False).encode()
        return await self.js.publish(subject_for(self.prefix, row["account_id"], row["type"]), body,
                                     stream=self.stream, timeout=10.0,
                                     headers={"Nats-Msg-Id": row["id"], "Vulnhound-Seq": str(row["seq"]),
                                              "Content-Type": "application/cloudevents+json"})

    async def run(self, stop: threading.Event, poll: float = 0.5) -> None:
        while not stop.is_set():
            try:
                await self.publish_pending()
            except Exception as exc:  # NATS or the store away: retry; the cursor only moved for acked batches
                log.warning("NATS publishing to %s: %s", self.url, exc)
                await self.close()
                await asyncio.sleep(min(5.0, poll * 4))
            await asyncio.sleep(poll)
        await self.close()


def run_forever(engine: sa.Engine, url: str, stop: threading.Event, **options: Any) -> None:
    """The server's publishing loop (blocking; run it in a thread)."""
    asyncio.run(NatsPublisher(engine, url, **options).run(stop))


def start(engine: sa.Engine, url: str, **options: Any) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    t = threading.Thread(target=run_forever, args=(engine, url, stop), kwargs=options, name="nats-publisher",
                         daemon=True)
    t.start()
    return t, stop
