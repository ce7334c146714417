"""Publishing events to the machine's NATS JetStream (127.0.0.1:4222): subjects, headers, the cursor, and
JetStream's de-duplication of a resent batch. Each test uses its own stream and subject prefix and deletes them."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from typing import Any

import pytest
from eventkit import Store, store_fixture  # noqa: F401

from vulnhound.service.db.cursors import read as read_cursor
from vulnhound.service.db.cursors import write as write_cursor
from vulnhound.service.events import nats_pub
from vulnhound.service.events.nats_pub import NatsPublisher

NATS_URL = "nats://127.0.0.1:4222"
pytestmark = pytest.mark.services


async def _messages(stream: str, prefix: str, n: int) -> list[Any]:
    import nats

    nc = await nats.connect(NATS_URL)
    try:
        js = nc.jetstream()
        info = await js.stream_info(stream)
        sub = await js.pull_subscribe(f"{prefix}.>", durable=None, stream=stream)
        msgs = await sub.fetch(n, timeout=5) if n else []
        return [info.state.messages, msgs]
    finally:
        await nc.close()


async def _delete(stream: str) -> None:
    import nats

    nc = await nats.connect(NATS_URL)
    try:
        await nc.jetstream().delete_stream(stream)
    finally:
        await nc.close()


@pytest.fixture
def names() -> Any:
    tag = secrets.token_hex(4)
    stream, prefix = f"VHTEST_{tag}", f"vhtest{tag}"
    yield stream, prefix
    try:
        asyncio.run(_delete(stream))
    except Exception:
        pass  # the test never created it


def test_every_event_published_once_with_dedupe(store: Store, names: tuple[str, str]) -> None:
    stream, prefix = names
    a, b = store.account(), store.account()
    store.emit(a, "vulnhound.finding.created", "res-1", n=1)
    store.emit(b, "vulnhound.scan.completed", "res-2", n=2)
    store.emit(a, "vulnhound.knowledgebase.updated", None, n=3)
    pub = NatsPublisher(store.engine, NATS_URL, stream=stream, prefix=prefix)

    async def run() -> tuple[int, int]:
        try:
            first = await pub.publish_pending()
            again = await pub.publish_pending()
            return first, again
        finally:
            await pub.close()

    assert asyncio.run(run()) == (3, 0)
    with store.engine.connect() as conn:
        assert read_cursor(conn, "nats") == store.scalar("SELECT max(seq) FROM events")
    count, msgs = asyncio.run(_messages(stream, prefix, 3))
    assert count == 3
    assert [m.subject for m in msgs] == [f"{prefix}.{a.account_id}.finding.created",
                                         f"{prefix}.{b.account_id}.scan.completed",
                                         f"{prefix}.{a.account_id}.knowledgebase.updated"]
    bodies = [json.loads(m.data) for m in msgs]
    assert [e["data"]["n"] for e in bodies] == [1, 2, 3]
    assert all(m.headers["Nats-Msg-Id"] == e["id"] for m, e in zip(msgs, bodies, strict=True))

    # A crash after publishing but before the cursor moved: everything is sent again, JetStream drops it.
    with store.engine.begin() as conn:
        write_cursor(conn, "nats", 0)
    store.emit(a, "vulnhound.finding.closed", "res-1", n=4)
    pub2 = NatsPublisher(store.engine, NATS_URL, stream=stream, prefix=prefix)

    async def rerun() -> int:
        try:
            return await pub2.publish_pending()
        finally:
            await pub2.close()

    assert asyncio.run(rerun()) == 4
    assert pub2.duplicates == 3
    count, msgs = asyncio.run(_messages(stream, prefix, 4))
    assert count == 4
    assert [json.loads(m.data)["data"]["n"] for m in msgs] == [1, 2, 3, 4]


def test_background_publisher_follows_new_events(store: Store, names: tuple[str, str]) -> None:
    stream, prefix = names
    a = store.account()
    t, stop = nats_pub.start(store.engine, NATS_URL, stream=stream, prefix=prefix)
    try:
        for i in range(20):
            store.emit(a, "vulnhound.finding.updated", f"res-{i % 3}", n=i)
        end = time.monotonic() + 15
        while time.monotonic() < end and store.scalar("SELECT position FROM service_cursors WHERE name = 'nats'") != \
                store.scalar("SELECT max(seq) FROM events"):
            time.sleep(0.1)
    finally:
        stop.set()
        t.join(timeout=10)
    assert not t.is_alive()
    count, msgs = asyncio.run(_messages(stream, prefix, 20))
    assert count == 20
    assert [json.loads(m.data)["data"]["n"] for m in msgs] == list(range(20))
