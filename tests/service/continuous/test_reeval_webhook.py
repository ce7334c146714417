"""Issue #7's end-to-end claim, webhook side: after scans, a newer feed snapshot (real PyPA records, one added, two
modified, one withdrawn) is re-evaluated, and a real HTTP receiver gets exactly the events the change warrants — each
once, as a CloudEvents 1.0 document, with an HMAC-SHA256 signature the receiver checks with its own code. The full
re-evaluation afterwards changes nothing and sends nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from reeval_kit import (
    FLEET,
    Mirror,
    events_after,
    first_snapshot,
    fresh_store,
    last_seq,
    newer_snapshot,
    open_kb_at,
    push_and_scan,
    root_actor,
)

from vulnhound.service.continuous.reevaluate import full, incremental
from vulnhound.service.events import webhooks
from vulnhound.service.events.delivery import DeliveryConfig, deliver_once

BACKENDS = ["sqlite", pytest.param("postgresql", marks=[pytest.mark.services])]
INVENTORIES = FLEET


class Inbox:
    """A webhook receiver on 127.0.0.1: records every POST (headers, body) and answers 204."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        inbox = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                inbox.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/vulnhound"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    box = Inbox()
    yield box
    box.close()


def verified(secret: str, headers: dict[str, str], body: bytes) -> dict[str, Any]:
    """What a receiver does: recompute the signature over "<timestamp>.<body>" and compare in constant time."""
    expected = "sha256=" + hmac.new(secret.encode(), headers["x-vulnhound-timestamp"].encode() + b"." + body,
                                    hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, headers["x-vulnhound-signature"]), "bad signature"
    assert headers["content-type"] == "application/cloudevents+json"
    doc: dict[str, Any] = json.loads(body)
    assert doc["specversion"] == "1.0" and doc["id"] == headers["x-vulnhound-delivery"]
    assert {"id", "source", "type", "time", "data"} <= doc.keys()
    return doc


@pytest.mark.parametrize("backend", BACKENDS)
def test_webhook_gets_exactly_the_reevaluation_events(backend: str, tmp_path: Path, vulndata: Path,
                                                       inbox: Inbox) -> None:
    mirror = Mirror(tmp_path / "mirror", vulndata)
    first_snapshot(mirror)
    with open_kb_at(tmp_path) as (kb, index), fresh_store(backend, tmp_path) as engine:
        mirror.update(kb)
        actor = root_actor(engine)
        rids = {name: push_and_scan(engine, actor, index, name, pkgs) for name, pkgs in INVENTORIES.items()}
        incremental(engine, index, kb)  # catch up with the first import
        with engine.begin() as conn:
            hook = webhooks.create(conn, actor, inbox.url)  # hears what happens from now on
        _, eseq = last_seq(engine)

        newer_snapshot(mirror)
        [op] = mirror.update(kb)
        result = incremental(engine, index, kb)
        assert result.resources == 4  # every resource but yaml-1

        counts = deliver_once(engine, DeliveryConfig(timeout=5.0))
        assert counts.fanned_out == 6
        docs = [verified(hook["secret"], headers, body) for headers, body in inbox.requests]
        names = {rid: name for name, rid in rids.items()}
        got = sorted((d["type"], names.get(d["subject"]), (d["data"].get("change") or {}).get("cause")) for d in docs)
        assert got == sorted([
            ("vulnhound.finding.created", "flask-1", "ADVISORY_ADDED"),
            ("vulnhound.finding.closed", "u3-1", "ADVISORY_MODIFIED"),
            ("vulnhound.finding.closed", "web-1", "ADVISORY_WITHDRAWN"),
            ("vulnhound.finding.updated", "web-1", "ADVISORY_MODIFIED"),
            ("vulnhound.finding.updated", "api-1", "ADVISORY_MODIFIED"),
            ("vulnhound.knowledgebase.updated", None, None)])
        # each outbox event exactly once, and nothing else
        assert sorted(d["id"] for d in docs) == sorted(e["id"] for e in events_after(engine, eseq))
        created = next(d for d in docs if d["type"] == "vulnhound.finding.created")
        assert created["data"]["packageVulnerabilityDetails"]["vulnerabilityId"] == "CVE-2018-1000656"
        assert created["data"]["change"]["kbOperation"] == op
        # per resource, in event order
        web = [d["vulnhoundseq"] for d in docs if d["subject"] == rids["web-1"]]
        assert web == sorted(web)

        before = len(inbox.requests)
        check = full(engine, index)
        assert (check.resources, check.changed) == (len(INVENTORIES), 0)
        assert deliver_once(engine, DeliveryConfig(timeout=5.0)).fanned_out == 0
        assert len(inbox.requests) == before
