"""Pull an image straight from a registry (``registry:host[:port]/repo:tag`` or ``…@sha256:…``) over the
distribution API: anonymous or credentialed bearer tokens, basic auth, indexes, layers streamed, never stored."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
from collections.abc import Iterator
from typing import Any

import httpx

from vulnhound.sources.blobstream import Limits, _Readable
from vulnhound.sources.image import (
    DOCKER_LIST,
    DOCKER_MANIFEST,
    INDEX_TYPES,
    MAX_DOCUMENT,
    OCI_INDEX,
    OCI_MANIFEST,
    ImageSource,
    LayerBlob,
    check_digest,
    layers_from,
    parse_json,
    pick_platform,
    verify_document,
)
from vulnhound.sources.interface import SourceError

ACCEPT = ", ".join((OCI_INDEX, DOCKER_LIST, OCI_MANIFEST, DOCKER_MANIFEST))
DOCKER_HUB = "registry-1.docker.io"
TIMEOUT = httpx.Timeout(60.0, connect=10.0)
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


def parse_reference(ref: str) -> tuple[str, str, str]:
    """"host:5000/a/b:tag" → ("host:5000", "a/b", "tag"); the reference part may be "sha256:…"."""
    name, digest = ref, None
    if "@" in ref:
        name, digest = ref.split("@", 1)
        check_digest(digest, f"{ref}")
    first, slash, rest = name.partition("/")
    if not slash or not ("." in first or ":" in first or first == "localhost"):
        host, repo = DOCKER_HUB, name
        if "/" not in repo.split(":")[0]:
            repo = "library/" + repo
    else:
        host, repo = first, rest
    tag = None
    if ":" in repo.rsplit("/", 1)[-1]:
        repo, tag = repo.rsplit(":", 1)
    if not repo or not re.fullmatch(r"[a-z0-9]+([._/-][a-z0-9]+)*", repo):
        raise SourceError(f"{ref}: not an image reference (expected host[:port]/repo[:tag] or @sha256:…)")
    return host, repo, digest or tag or "latest"


class RegistryClient:
    """A minimal distribution-API client for one repository; handles the auth challenge once, then reuses it."""

    def __init__(self, host: str, repo: str, insecure: bool = False, username: str | None = None,
                 password: str | None = None) -> None:
        self.host = host
        self.repo = repo
        self.base = f"https://{host}/v2/{repo}"
        # --insecure as Docker means it: HTTPS without certificate checks, else plain HTTP (decided once).
        self.may_downgrade = insecure
        self.username = username
        self.password = password
        self.http = httpx.Client(timeout=TIMEOUT, follow_redirects=True, verify=not insecure)
        self.auth: str | None = None

    def close(self) -> None:
        self.http.close()

    def _basic(self) -> str:
        raw = f"{self.username}:{self.password or ''}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def _authenticate(self, challenge: str) -> None:
        scheme, _, params_text = challenge.partition(" ")
        params = dict(_CHALLENGE_PARAM.findall(params_text))
        if scheme.lower() == "basic":
            if not self.username:
                raise SourceError(f"{self.host}: registry needs credentials (--username/--password or "
                                  "VULNHOUND_REGISTRY_USERNAME/_PASSWORD)")
            self.auth = self._basic()
            return
        if scheme.lower() != "bearer" or "realm" not in params:
            raise SourceError(f"{self.host}: unsupported auth challenge {challenge!r}")
        query = {"service": params["service"]} if "service" in params else {}
        query["scope"] = params.get("scope", f"repository:{self.repo}:pull")
        headers = {"Authorization": self._basic()} if self.username else {}
        try:
            resp = self.http.get(params["realm"], params=query, headers=headers)
        except httpx.HTTPError as exc:
            raise SourceError(f"{self.host}: token server {params['realm']} unreachable ({exc})") from exc
        if resp.status_code in (401, 403):
            raise SourceError(f"{self.host}: token server refused the credentials ({resp.status_code})")
        if resp.status_code != 200:
            raise SourceError(f"{self.host}: token server answered {resp.status_code}")
        try:
            body = resp.json()
        except ValueError as exc:
            raise SourceError(f"{self.host}: token server sent no JSON") from exc
        token = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str):
            raise SourceError(f"{self.host}: token server sent no token")
        self.auth = "Bearer " + token

    @contextlib.contextmanager
    def get(self, path: str, what: str, accept: str | None = None) -> Iterator[httpx.Response]:
        """A streamed GET of ``path`` under the repository, authenticating when challenged."""
        challenge = ""
        for attempt in range(2):
            headers = {"Accept": accept} if accept else {}
            if self.auth:
                headers["Authorization"] = self.auth
            try:
                resp_cm = self._stream(path, headers)
                with resp_cm as resp:
                    if resp.status_code == 401 and attempt == 0:
                        challenge = resp.headers.get("www-authenticate", "")
                        resp.read()
                    else:
                        _check_status(resp, self.host, self.repo, what)
                        yield resp
                        return
            except httpx.HTTPError as exc:
                raise SourceError(f"{self.host}/{self.repo}: {what}: {exc}") from exc
            self._authenticate(challenge)
        raise SourceError(f"{self.host}/{self.repo}: {what}: still unauthorized after authenticating")

    def _stream(self, path: str, headers: dict[str, str]) -> contextlib.AbstractContextManager[httpx.Response]:
        if self.may_downgrade:
            self.may_downgrade = False
            try:
                self.http.get(f"https://{self.host}/v2/", timeout=5.0)
            except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError):
                self.base = f"http://{self.host}/v2/{self.repo}"
        return self.http.stream("GET", f"{self.base}/{path}", headers=headers)

    def fetch(self, path: str, what: str, accept: str | None = None) -> tuple[bytes, str | None]:
        with self.get(path, what, accept) as resp:
            data = bytearray()
            for chunk in resp.iter_raw():
                data += chunk
                if len(data) > MAX_DOCUMENT:
                    raise SourceError(f"{self.host}/{self.repo}: {what} larger than {MAX_DOCUMENT} bytes; refused")
            return bytes(data), resp.headers.get("content-type")


def _check_status(resp: httpx.Response, host: str, repo: str, what: str) -> None:
    if resp.status_code == 200:
        return
    if resp.status_code == 401:
        raise SourceError(f"{host}/{repo}: {what}: unauthorized (give --username/--password)")
    if resp.status_code == 404:
        raise SourceError(f"{host}/{repo}: {what} not found")
    raise SourceError(f"{host}/{repo}: {what}: registry answered HTTP {resp.status_code}")


class _ResponseReader:
    """``read(n)`` over a streamed HTTP body."""

    def __init__(self, resp: httpx.Response) -> None:
        self._chunks = resp.iter_raw(1 << 20)
        self._buf = b""

    def read(self, n: int = -1) -> bytes:
        while n < 0 or len(self._buf) < n:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buf += chunk
        if n < 0:
            out, self._buf = self._buf, b""
        else:
            out, self._buf = self._buf[:n], self._buf[n:]
        return out


class RegistrySource(ImageSource):
    """An image in a registry, read layer by layer over HTTP."""

    kind = "registry"

    def __init__(self, ref: str, platform: str = "linux/amd64", insecure: bool = False, username: str | None = None,
                 password: str | None = None, limits: Limits | None = None, verify: bool = True) -> None:
        super().__init__(ref, limits, verify)
        host, repo, reference = parse_reference(ref)
        username = username or os.environ.get("VULNHOUND_REGISTRY_USERNAME")
        password = password or os.environ.get("VULNHOUND_REGISTRY_PASSWORD")
        self.client = RegistryClient(host, repo, insecure, username, password)
        try:
            self._load(ref, reference, platform)
        except BaseException:
            self.client.close()
            raise

    def _load(self, ref: str, reference: str, platform: str) -> None:
        digest, manifest = self._manifest(reference, f"manifest {reference}")
        if manifest.get("mediaType") in INDEX_TYPES or "manifests" in manifest:
            desc, self._info.platform = pick_platform(manifest, platform, f"{ref}: index {digest}")
            digest, manifest = self._manifest(check_digest(desc.get("digest"), f"{ref}: index entry"),
                                              f"manifest for {self._info.platform}")
            if manifest.get("mediaType") in INDEX_TYPES or "manifests" in manifest:
                raise SourceError(f"{ref}: nested indexes are not supported")
        if "layers" not in manifest:
            raise SourceError(f"{ref}: unsupported manifest (schema 1 or unknown); re-push as schema 2 or OCI")
        config_digest = check_digest((manifest.get("config") or {}).get("digest"), f"{ref}: config")
        config_bytes, _ = self.client.fetch(f"blobs/{config_digest}", f"config blob {config_digest}")
        verify_document(config_bytes, config_digest, f"{ref}: config blob")
        config = parse_json(config_bytes, f"{ref}: config")
        self.layers = layers_from(manifest, config, f"{ref}: manifest {digest}")
        self._info.digest = digest
        self._info.repo_tags = (ref,) if "@" not in ref else ()
        self._info.metadata["image_id"] = config_digest

    def _manifest(self, reference: str, what: str) -> tuple[str, dict[str, Any]]:
        data, _ = self.client.fetch(f"manifests/{reference}", what, accept=ACCEPT)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if reference.startswith("sha256:"):
            verify_document(data, reference, f"{self.target}: {what}")
        return digest, parse_json(data, f"{self.target}: {what}")

    @contextlib.contextmanager
    def _open(self, layer: LayerBlob) -> Iterator[_Readable]:
        with self.client.get(f"blobs/{layer.key}", f"layer blob {layer.key}") as resp:
            yield _ResponseReader(resp)

    def open_blob(self, layer: LayerBlob) -> contextlib.AbstractContextManager[_Readable]:
        return self._open(layer)

    def close(self) -> None:
        super().close()
        self.client.close()
