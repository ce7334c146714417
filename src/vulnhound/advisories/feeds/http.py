"""Shared download helper for feeds: conditional GET (ETag / If-Modified-Since), polite retries, truncation checks.

Every feed's ``fetch`` goes through :func:`download` so that 304, 429 + Retry-After, 5xx backoff and short bodies
are handled once, the same way, and can be tested once against a local server.
"""

from __future__ import annotations

import os
import tarfile
import time
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import httpx

from vulnhound.advisories.feeds.interface import FetchResult, FetchState

Progress = Callable[[int, int | None], None]  # (bytes so far, Content-Length or None)
Sleep = Callable[[float], None]

RETRY_STATUSES: frozenset[int] = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "vulnhound-feeds/0.1 (self-hosted vulnerability management)"


class FetchError(Exception):
    """A download that failed for good (after retries); the caller keeps its previous snapshot."""

    def __init__(self, url: str, message: str, status: int | None = None) -> None:
        super().__init__(f"{url}: {message}")
        self.url = url
        self.status = status


class TruncatedDownload(FetchError):
    """The body ended before Content-Length bytes arrived."""


@dataclass(slots=True)
class Download:
    url: str
    path: Path | None  # None when unchanged
    unchanged: bool
    etag: str | None
    last_modified: str | None
    bytes_downloaded: int = 0
    status: int = 200


@dataclass(slots=True)
class RetryPolicy:
    """How hard to try: attempts in total, exponential backoff base, and the longest wait we accept."""

    attempts: int = 5
    backoff: float = 2.0
    max_wait: float = 300.0
    statuses: Container[int] = RETRY_STATUSES


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds or an HTTP-date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def download(
    client: httpx.Client,
    url: str,
    dest: Path,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    params: Mapping[str, str | int] | None = None,
    headers: Mapping[str, str] | None = None,
    policy: RetryPolicy | None = None,
    progress: Progress | None = None,
    sleep: Sleep = time.sleep,
) -> Download:
    """GET ``url`` into ``dest`` (atomically); 304 → ``unchanged``; retries 429/5xx/short bodies, then FetchError."""
    policy = policy or RetryPolicy()
    req_headers: dict[str, str] = {"User-Agent": USER_AGENT, **(headers or {})}
    if etag:
        req_headers["If-None-Match"] = etag
    if last_modified:
        req_headers["If-Modified-Since"] = last_modified
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    last_error = "no attempt made"
    last_status: int | None = None
    for attempt in range(policy.attempts):
        wait = min(policy.backoff * (2**attempt), policy.max_wait)
        try:
            # Upstreams move (epss.cyentia.com → epss.empiricalsecurity.com): follow redirects whatever the client says.
            with client.stream("GET", url, params=params, headers=req_headers, follow_redirects=True) as resp:
                last_status = resp.status_code
                if resp.status_code == 304:
                    return Download(url, None, True, etag, last_modified, 0, 304)
                if resp.status_code in policy.statuses:
                    hinted = retry_after_seconds(resp.headers.get("Retry-After"))
                    if hinted is not None:
                        if hinted > policy.max_wait:
                            raise FetchError(url, f"HTTP {resp.status_code}, Retry-After {hinted:.0f}s too long",
                                             resp.status_code)
                        wait = hinted
                    last_error = f"HTTP {resp.status_code}"
                elif resp.status_code >= 400:
                    raise FetchError(url, f"HTTP {resp.status_code}", resp.status_code)
                else:
                    got = _stream_to(resp, tmp, progress)
                    os.replace(tmp, dest)
                    return Download(url, dest, False, resp.headers.get("ETag"), resp.headers.get("Last-Modified"),
                                    got, resp.status_code)
        except TruncatedDownload as exc:
            last_error = str(exc)
        except httpx.TransportError as exc:  # includes a peer closing mid-body (RemoteProtocolError)
            last_error = f"{type(exc).__name__}: {exc}"
        finally:
            tmp.unlink(missing_ok=True)
        if attempt + 1 < policy.attempts:
            sleep(wait)
    raise FetchError(url, f"gave up after {policy.attempts} attempts: {last_error}", last_status)


def _stream_to(resp: httpx.Response, tmp: Path, progress: Progress | None) -> int:
    declared = resp.headers.get("Content-Length")
    total = int(declared) if declared and declared.isdigit() else None
    with tmp.open("wb") as out:
        # Decoded bytes (transfer gzip undone); a .gz file served as-is stays compressed, as upstream published it.
        # num_bytes_downloaded counts wire bytes, which is what Content-Length declares.
        for chunk in resp.iter_bytes(1 << 16):
            out.write(chunk)
            if progress is not None:
                progress(resp.num_bytes_downloaded, total)
    got = resp.num_bytes_downloaded
    if total is not None and got != total:
        raise TruncatedDownload(str(resp.url), f"truncated: {got} of {total} bytes", resp.status_code)
    return got


def fetch_file(client: httpx.Client, url: str, dest: Path, state: FetchState, **kwargs: Any) -> FetchResult:
    """One-file feeds (KEV, EPSS, the Debian tracker JSON): conditional download, validators carried in state."""
    got = download(client, url, dest, etag=state.etag, last_modified=state.last_modified, **kwargs)
    if got.unchanged:
        return FetchResult(True, None, state, 0, f"{url} unchanged (304)")
    new_state = FetchState(etag=got.etag, last_modified=got.last_modified, cursor=state.cursor, extra=state.extra)
    return FetchResult(False, dest, new_state, got.bytes_downloaded, f"{url} etag={got.etag}")


def fetch_tarball(client: httpx.Client, url: str, dest: Path, state: FetchState, **kwargs: Any) -> FetchResult:
    """Repository-tarball feeds (RustSec, RubySec, nodejs security-wg): download, then unpack into ``dest``."""
    archive = dest.parent / (dest.name + ".tar.gz")
    try:
        result = fetch_file(client, url, archive, state, **kwargs)
        if result.unchanged:
            return result
        try:
            extract_tarball(archive, dest)
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise FetchError(url, f"bad tarball: {exc}") from exc
        result.snapshot = dest
        return result
    finally:
        archive.unlink(missing_ok=True)


def extract_tarball(archive: Path, dest: Path, strip_components: int = 1) -> None:
    """Unpack a (GitHub) tarball safely: the 'data' filter refuses links out, devices and absolute paths."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(archive) as tar:
        members = []
        for m in tar.getmembers():
            parts = Path(m.name).parts[strip_components:]
            if not parts:
                continue
            m.name = str(Path(*parts))
            members.append(m)
        tar.extractall(dest, members=members, filter="data")
