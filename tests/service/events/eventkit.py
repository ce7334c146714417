"""Event test kit: a real threaded HTTP receiver on 127.0.0.1 that records what it gets, fresh stores (SQLite and
the machine's PostgreSQL), accounts, and events emitted straight through the outbox. Test modules import the
``*_fixture`` functions (registered as ``receiver``, ``store``, ``pg_store``)."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bench.pgtemp import temp_database
from vulnhound.service.db.engine import open_store
from vulnhound.service.domain.accounts import authenticate, bootstrap, create_account
from vulnhound.service.domain.common import Actor
from vulnhound.service.events.outbox import emit

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Receiver:
    """``status(n)`` answers the n-th request (0-based), or ``by_body(body)`` by its content; ``delay`` seconds of
    sleep before answering."""

    status: Callable[[int], int] = lambda n: 200
    by_body: Callable[[bytes], int] | None = None  # answers by the request body instead, when set
    delay: float = 0.0
    got: list[Received] = field(default_factory=list)  # requests answered 2xx, in arrival order
    tries: list[Received] = field(default_factory=list)  # every request
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self, port: int = 0) -> Receiver:
        rec = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                if rec.delay:
                    time.sleep(rec.delay)
                item = Received({k.lower(): v for k, v in self.headers.items()}, body, time.monotonic())
                with rec.lock:
                    code = rec.by_body(body) if rec.by_body else rec.status(len(rec.tries))
                    rec.tries.append(item)
                    if 200 <= code < 300:
                        rec.got.append(item)
                self.send_response(code)
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def wait(self, n: int, timeout: float = 20.0) -> bool:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self.lock:
                if len(self.got) >= n:
                    return True
            time.sleep(0.02)
        return False


@pytest.fixture(name="receiver")
def receiver_fixture() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(**kw: Any) -> Receiver:
        r = Receiver(**kw).start()
        made.append(r)
        return r

    yield make
    for r in made:
        r.stop()


def _pg_url() -> Iterator[str]:
    with temp_database("vh_events", PG_ADMIN, pytest.skip) as url:
        yield url


@dataclass
class Store:
    engine: sa.Engine
    root: Actor

    def account(self, name: str | None = None) -> Actor:
        with self.engine.begin() as conn:
            out = create_account(conn, self.root, name or f"acct-{secrets.token_hex(4)}")
            who = authenticate(conn, out["adminKey"]["token"])
        assert who is not None
        return who

    def emit(self, actor: Actor, type_: str, subject: str | None, **data: Any) -> None:
        with self.engine.begin() as conn:
            emit(conn, actor.account_id, type_, subject, data)

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.engine.connect() as conn:
            return conn.execute(sa.text(sql), params).scalar()


def make_store(url: str) -> Store:
    engine = open_store(url)
    with engine.begin() as conn:
        token = bootstrap(conn)
        assert token is not None
        root = authenticate(conn, token)
    assert root is not None
    return Store(engine, root)


@pytest.fixture(name="store", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def store_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        s = make_store(f"sqlite:///{tmp_path / 'service.db'}")
        yield s
        s.engine.dispose()
    else:
        for url in _pg_url():
            s = make_store(url)
            yield s
            s.engine.dispose()


@pytest.fixture(name="pg_store")
def pg_store_fixture() -> Iterator[Store]:
    for url in _pg_url():
        s = make_store(url)
        yield s
        s.engine.dispose()
