"""A real HTTP server on 127.0.0.1 for feed fetch tests: ETag/Last-Modified, 304, scripted 429/5xx/truncation.

Usage: ``server.add("/path", body)`` then ``server.fail("/path", 503, retry_after="2")`` or ``server.truncate("/path")``
to queue misbehaviour for the next requests of that path; ``server.requests`` records what the client sent.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

LAST_MODIFIED = "Wed, 01 Jan 2025 00:00:00 GMT"


@dataclass
class Seen:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased


@dataclass
class Route:
    body: bytes
    content_type: str = "application/octet-stream"
    etag: str = ""
    # Scripted behaviour for the next requests, consumed in order: ("status", code, retry_after) | ("truncate",)
    script: list[tuple[object, ...]] = field(default_factory=list)


Dynamic = Callable[[dict[str, list[str]], dict[str, str]], tuple[int, bytes, dict[str, str]]]


class LocalServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.dynamic: dict[str, Dynamic] = {}
        self.requests: list[Seen] = []
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        # A short poll interval keeps shutdown (each test's teardown) from waiting half a second.
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    @property
    def base(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, body: bytes, content_type: str = "application/octet-stream") -> None:
        self.routes[path] = Route(body, content_type, '"' + hashlib.sha256(body).hexdigest()[:16] + '"')

    def add_dynamic(self, path: str, handler: Dynamic) -> None:
        self.dynamic[path] = handler

    def fail(self, path: str, status: int, retry_after: str | None = None, times: int = 1) -> None:
        self.routes[path].script.extend([("status", status, retry_after)] * times)

    def truncate(self, path: str, times: int = 1) -> None:
        self.routes[path].script.extend([("truncate",)] * times)

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # quiet test output
                pass

            def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                if "Content-Length" not in headers:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                headers = {k.lower(): v for k, v in self.headers.items()}
                server.requests.append(Seen(parts.path, query, headers))
                if parts.path in server.dynamic:
                    status, body, extra = server.dynamic[parts.path](query, headers)
                    self._send(status, body, {"Content-Type": "application/json", **extra})
                    return
                route = server.routes.get(parts.path)
                if route is None:
                    self._send(404, b"not found", {})
                    return
                if route.script:
                    step = route.script.pop(0)
                    if step[0] == "status":
                        extra = {"Retry-After": str(step[2])} if step[2] is not None else {}
                        self._send(int(step[1]), b"busy", extra)  # type: ignore[call-overload]
                        return
                    if step[0] == "truncate":
                        self.send_response(200)
                        self.send_header("Content-Length", str(len(route.body)))
                        self.send_header("ETag", route.etag)
                        self.end_headers()
                        self.wfile.write(route.body[: len(route.body) // 2])
                        self.wfile.flush()
                        self.close_connection = True
                        return
                if self.headers.get("If-None-Match") == route.etag:
                    self._send(304, b"", {"ETag": route.etag, "Content-Length": "0"})
                    return
                self._send(
                    200,
                    route.body,
                    {"Content-Type": route.content_type, "ETag": route.etag, "Last-Modified": LAST_MODIFIED},
                )

        return Handler


@pytest.fixture
def server() -> Iterator[LocalServer]:
    srv = LocalServer()
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def client() -> Iterator[httpx.Client]:
    # Bounded in time: a hung local server fails the test instead of stalling the suite.
    with httpx.Client(timeout=httpx.Timeout(10.0), follow_redirects=True) as c:
        yield c


class Sleeps(list[float]):
    """Records requested sleeps instead of sleeping, so retry tests assert the waits without taking them."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()
