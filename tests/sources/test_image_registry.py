"""Pulling from a real registry on 127.0.0.1: by tag and digest, indexes, and the auth flows (anonymous and
credentialed bearer tokens from a tiny token server in front of the registry, basic auth)."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from imagebuild import Layer, build_image, skopeo
from test_image_formats import _multiarch

from vulnhound.sources.interface import SourceError
from vulnhound.sources.registry import parse_reference
from vulnhound.sources.resolve import SourceOptions, open_source

pytestmark = pytest.mark.network_tools
TOKEN = "s3cr3t-token"


@pytest.fixture(scope="module")
def pushed(local_registry: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("reg")
    img = build_image(base / "one", [Layer([("file", "etc/os-release", b"ID=debian\n")]),
                                     Layer([("file", "var/pkgs.txt", b"a 1\n")], compression="none")], ref="v1")
    skopeo("copy", "-q", "--dest-tls-verify=false", f"oci:{img.layout}:v1", f"docker://{local_registry}/t/one:v1")
    multi = _multiarch(base)
    skopeo("copy", "-q", "--all", "--dest-tls-verify=false", f"oci:{multi}:multi",
           f"docker://{local_registry}/t/multi:latest")
    return {"registry": local_registry}


class _Front(BaseHTTPRequestHandler):
    """Demands auth the way Docker Hub/GHCR do, then forwards to the real registry."""

    upstream = ""
    mode = "token"  # "token" (bearer via /token) or "basic"
    creds: tuple[str, str] | None = None

    def log_message(self, *args: object) -> None:
        return None

    def _basic_ok(self) -> bool:
        if self.creds is None:
            return True
        want = "Basic " + base64.b64encode(f"{self.creds[0]}:{self.creds[1]}".encode()).decode()
        return self.headers.get("Authorization") == want

    def _send(self, code: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(code)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        port = self.server.server_address[1]
        if self.path.startswith("/token"):
            if not self._basic_ok():
                self._send(401, b"{}", {})
                return
            self._send(200, json.dumps({"token": TOKEN}).encode(), {"Content-Type": "application/json"})
            return
        auth = self.headers.get("Authorization", "")
        ok = auth == f"Bearer {TOKEN}" if self.mode == "token" else (auth.startswith("Basic") and self._basic_ok())
        if not ok:
            challenge = (f'Bearer realm="http://127.0.0.1:{port}/token",service="test"' if self.mode == "token"
                         else 'Basic realm="test"')
            self._send(401, b"{}", {"WWW-Authenticate": challenge})
            return
        resp = httpx.get(self.upstream + self.path, headers={"Accept": self.headers.get("Accept", "*/*")},
                         timeout=30)
        keep = {k: v for k, v in resp.headers.items() if k.lower() in ("content-type", "docker-content-digest")}
        self._send(resp.status_code, resp.content, keep)


@pytest.fixture
def front(pushed: dict[str, str]) -> Iterator[type[_Front]]:
    handler = type("Front", (_Front,), {"upstream": f"http://{pushed['registry']}"})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    handler.address = f"127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    try:
        yield handler
    finally:
        server.shutdown()
        server.server_close()


def _files(target: str, **opts: object) -> dict[str, bytes]:
    with open_source(target, SourceOptions(insecure=True, **opts)) as src:  # type: ignore[arg-type]
        view = src.open_view(lambda p: True)
        return {m.path: view.read_bytes(m.path) for m in view.iter_files()}


def test_pull_by_tag_and_by_digest(pushed: dict[str, str]) -> None:
    reg = pushed["registry"]
    with open_source(f"registry:{reg}/t/one:v1", SourceOptions(insecure=True)) as src:
        view = src.open_view(lambda p: True)
        assert view.read_bytes("var/pkgs.txt") == b"a 1\n"
        digest = src.info().digest
        assert digest and len(src.info().layers) == 2 and src.info().kind == "registry"
    assert _files(f"registry:{reg}/t/one@{digest}")["etc/os-release"] == b"ID=debian\n"
    with pytest.raises(SourceError, match="not found"):
        open_source(f"registry:{reg}/t/one:nope", SourceOptions(insecure=True))


def test_pull_picks_the_platform_from_an_index(pushed: dict[str, str]) -> None:
    reg = pushed["registry"]
    assert _files(f"registry:{reg}/t/multi")["arch"] == b"amd64"
    assert _files(f"registry:{reg}/t/multi:latest", platform="linux/arm64")["arch"] == b"arm64"


def test_anonymous_bearer_token(front: type[_Front]) -> None:
    assert _files(f"registry:{front.address}/t/one:v1")["var/pkgs.txt"] == b"a 1\n"  # type: ignore[attr-defined]


def test_bearer_token_with_credentials(front: type[_Front], monkeypatch: pytest.MonkeyPatch) -> None:
    front.creds = ("alice", "pw")
    addr = front.address  # type: ignore[attr-defined]
    with pytest.raises(SourceError, match="refused the credentials"):
        _files(f"registry:{addr}/t/one:v1")
    monkeypatch.setenv("VULNHOUND_REGISTRY_USERNAME", "alice")
    monkeypatch.setenv("VULNHOUND_REGISTRY_PASSWORD", "pw")
    assert _files(f"registry:{addr}/t/one:v1")["var/pkgs.txt"] == b"a 1\n"
    monkeypatch.delenv("VULNHOUND_REGISTRY_USERNAME")
    with pytest.raises(SourceError, match="refused the credentials"):
        _files(f"registry:{addr}/t/one:v1", username="alice", password="wrong")


def test_basic_auth(front: type[_Front]) -> None:
    front.mode = "basic"
    front.creds = ("bob", "pw")
    addr = front.address  # type: ignore[attr-defined]
    with pytest.raises(SourceError, match="needs credentials"):
        _files(f"registry:{addr}/t/one:v1")
    assert _files(f"registry:{addr}/t/one:v1", username="bob", password="pw")["etc/os-release"] == b"ID=debian\n"
    with pytest.raises(SourceError, match="unauthorized"):
        _files(f"registry:{addr}/t/one:v1", username="bob", password="bad")


def test_parse_reference() -> None:
    assert parse_reference("127.0.0.1:5000/a/b:1.0") == ("127.0.0.1:5000", "a/b", "1.0")
    assert parse_reference("localhost/x") == ("localhost", "x", "latest")
    assert parse_reference("debian:12") == ("registry-1.docker.io", "library/debian", "12")
    d = "sha256:" + "a" * 64
    assert parse_reference(f"ghcr.io/o/r@{d}") == ("ghcr.io", "o/r", d)
    with pytest.raises(SourceError):
        parse_reference("ghcr.io/o/r@sha256:xyz")
    with pytest.raises(SourceError):
        parse_reference("host:5000/UPPER")
