"""OSV dump fetching through real HTTP against a local server: full zip, ETag/304, modified_id.csv increments,
429 + Retry-After, 5xx, truncated bodies and corrupt archives (old data kept)."""

from __future__ import annotations

import http.server
import io
import json
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from vulnhound.advisories.feeds.http import FetchError, RetryPolicy
from vulnhound.advisories.feeds.interface import FetchState
from vulnhound.advisories.feeds.osv import PARTIAL_MARKER, OsvDumpFeed, zip_records
from vulnhound.advisories.model import Advisory
from vulnhound.advisories.store import KnowledgeBase, open_engine
from vulnhound.advisories.store.update import update_upstream

GO_IDS = ("GO-2023-1268", "GO-2022-0969", "GO-2021-0113", "GO-2023-1571", "GO-2022-1144")


@dataclass
class Reply:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    truncate: int = 0  # declare this many more bytes than sent, then close


class Upstream:
    """Scripted replies per path (consumed in order), then a default; records every request's headers."""

    def __init__(self) -> None:
        self.default: dict[str, Reply] = {}
        self.queue: dict[str, list[Reply]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.etag = '"v1"'

    def reply(self, path: str, headers: dict[str, str]) -> Reply:
        self.requests.append((path, headers))
        if self.queue.get(path):
            return self.queue[path].pop(0)
        rep = self.default.get(path, Reply(404))
        if rep.status == 200 and rep.headers.get("ETag") and headers.get("If-None-Match") == rep.headers["ETag"]:
            return Reply(304, headers={"ETag": rep.headers["ETag"]})
        return rep


@pytest.fixture
def upstream() -> Iterator[tuple[Upstream, str]]:
    state = Upstream()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            rep = state.reply(self.path, dict(self.headers))
            self.send_response(rep.status)
            for k, v in rep.headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(rep.body) + rep.truncate))
            self.end_headers()
            self.wfile.write(rep.body)

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _records(vulndata: Path) -> list[tuple[str, bytes]]:
    return [(f"{i}.json", (vulndata / "golang-vulndb/data/osv" / f"{i}.json").read_bytes()) for i in GO_IDS]


def _serve_dump(up: Upstream, vulndata: Path) -> bytes:
    data = zip_records(_records(vulndata))
    up.default["/Go/all.zip"] = Reply(200, data, {"ETag": '"v1"', "Last-Modified": "Wed, 01 Jan 2025 00:00:00 GMT"})
    up.default["/Go/modified_id.csv"] = Reply(200, b"2025-01-01T00:00:00Z,GO-2023-1268\n"
                                                   b"2024-12-01T00:00:00Z,GO-2022-0969\n")
    return data


def _feed(base: str, sleeps: list[float], full_every_days: int = 7) -> OsvDumpFeed:
    feed = OsvDumpFeed("Go", base_url=base, full_every_days=full_every_days)
    feed.http = {"policy": RetryPolicy(attempts=3, backoff=0.0), "sleep": sleeps.append}
    return feed


def test_full_then_304_then_incremental(upstream: tuple[Upstream, str], vulndata: Path, tmp_path: Path) -> None:
    up, base = upstream
    _serve_dump(up, vulndata)
    sleeps: list[float] = []
    with httpx.Client() as client:
        feed = _feed(base, sleeps, full_every_days=0)  # always the full dump: exercises the conditional GET
        first = feed.fetch(client, tmp_path / "a", FetchState())
        assert not first.unchanged and first.state.etag == '"v1"'
        assert first.state.cursor == "2025-01-01T00:00:00Z"
        assert sorted(a.id for a in feed.parse(first.snapshot) if isinstance(a, Advisory)) == sorted(GO_IDS)

        second = feed.fetch(client, tmp_path / "b", first.state)
        assert second.unchanged
        assert up.requests[-1][1].get("If-None-Match") == '"v1"'

        # Incremental: one record modified after the cursor is fetched alone.
        inc = _feed(base, sleeps)
        up.default["/Go/modified_id.csv"] = Reply(200, b"2025-02-01T00:00:00Z,GO-2021-0113\n"
                                                       b"2025-01-01T00:00:00Z,GO-2023-1268\n")
        up.default["/Go/GO-2021-0113.json"] = Reply(200, dict(_records(vulndata))["GO-2021-0113.json"])
        third = inc.fetch(client, tmp_path / "c", first.state)
        assert third.snapshot is not None and (third.snapshot / PARTIAL_MARKER).exists()
        assert [a.id for a in inc.parse(third.snapshot) if isinstance(a, Advisory)] == ["GO-2021-0113"]
        assert third.state.cursor == "2025-02-01T00:00:00Z"
        assert inc.fetch(client, tmp_path / "d", third.state).unchanged  # nothing newer than the cursor
    assert sleeps == []


def test_429_retry_after_is_honoured(upstream: tuple[Upstream, str], vulndata: Path, tmp_path: Path) -> None:
    up, base = upstream
    _serve_dump(up, vulndata)
    up.queue["/Go/all.zip"] = [Reply(429, headers={"Retry-After": "7"}), Reply(503)]
    sleeps: list[float] = []
    with httpx.Client() as client:
        got = _feed(base, sleeps).fetch(client, tmp_path, FetchState())
    assert not got.unchanged and sleeps == [7.0, 0.0]


def _store_with_dump(base: str, vulndata: Path, tmp_path: Path, up: Upstream) -> KnowledgeBase:
    _serve_dump(up, vulndata)
    kb = KnowledgeBase(open_engine(str(tmp_path / "kb.db")))
    with httpx.Client() as client:
        (res,) = update_upstream(kb.engine, [_feed(base, [])], client)
    assert res.mode == "full" and res.counts["records"] == len(GO_IDS)
    return kb


def _corrupt(data: bytes) -> bytes:
    # Flip one byte inside the first member's compressed data: sizes stay right, the CRC check fails.
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.infolist()[0]
    at = info.header_offset + 30 + len(info.filename.encode()) + 10
    return data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1:]


@pytest.mark.parametrize("failure", ["5xx", "truncated", "corrupt-zip"])
def test_failed_download_keeps_previous_data(upstream: tuple[Upstream, str], vulndata: Path, tmp_path: Path,
                                             failure: str) -> None:
    up, base = upstream
    kb = _store_with_dump(base, vulndata, tmp_path, up)
    before = kb.counts()
    good = up.default["/Go/all.zip"].body
    if failure == "5xx":
        up.default["/Go/all.zip"] = Reply(500, b"oops")
    elif failure == "truncated":
        up.default["/Go/all.zip"] = Reply(200, good[: len(good) // 2], {"ETag": '"v2"'}, truncate=len(good) // 2)
    else:
        up.default["/Go/all.zip"] = Reply(200, _corrupt(good), {"ETag": '"v3"'})
    feed = _feed(base, [], full_every_days=0)
    with httpx.Client() as client:
        with pytest.raises(FetchError):
            feed.fetch(client, tmp_path / "direct", FetchState())
        (res,) = update_upstream(kb.engine, [feed], client)
    assert res.mode == "failed"
    assert kb.counts() == before
    assert [s.etag for s in kb.status()] == ['"v1"']  # validators of the last good snapshot kept
    kb.engine.dispose()


def test_zip_records_round_trip(vulndata: Path, tmp_path: Path) -> None:
    path = tmp_path / "all.zip"
    path.write_bytes(zip_records(_records(vulndata)))
    assert OsvDumpFeed.detect(path)
    assert OsvDumpFeed.from_mirror(path).name == "osv:Go"  # a bare all.zip is named after its records
    assert json.loads(zipfile.ZipFile(path).read("GO-2023-1268.json"))["id"] == "GO-2023-1268"
