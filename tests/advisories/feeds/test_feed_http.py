"""The shared download helper against a real local HTTP server: 304, Retry-After, 5xx backoff, truncation."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import httpx
import pytest

from vulnhound.advisories.feeds.http import (
    FetchError,
    RetryPolicy,
    download,
    extract_tarball,
    fetch_file,
    retry_after_seconds,
)
from vulnhound.advisories.feeds.interface import FetchState

BODY = b"0123456789" * 5000


def test_download_then_304_with_etag(server, client, tmp_path: Path) -> None:
    server.add("/f", BODY)
    first = download(client, server.url("/f"), tmp_path / "f")
    assert not first.unchanged and first.path is not None
    assert first.path.read_bytes() == BODY
    assert first.bytes_downloaded == len(BODY)
    assert first.etag and first.last_modified
    second = download(client, server.url("/f"), tmp_path / "g", etag=first.etag, last_modified=first.last_modified)
    assert second.unchanged and second.path is None
    assert not (tmp_path / "g").exists()
    assert server.requests[-1].headers["if-none-match"] == first.etag
    assert server.requests[-1].headers["if-modified-since"] == first.last_modified


def test_fetch_file_carries_validators_in_state(server, client, tmp_path: Path) -> None:
    server.add("/kev.json", b"{}")
    res = fetch_file(client, server.url("/kev.json"), tmp_path / "kev.json", FetchState())
    assert not res.unchanged and res.state.etag
    again = fetch_file(client, server.url("/kev.json"), tmp_path / "kev2.json", res.state)
    assert again.unchanged and again.snapshot is None and again.state is res.state


def test_429_retry_after_is_honoured(server, client, sleeps, tmp_path: Path) -> None:
    server.add("/f", BODY)
    server.fail("/f", 429, retry_after="7")
    got = download(client, server.url("/f"), tmp_path / "f", sleep=sleeps)
    assert got.path is not None and got.path.read_bytes() == BODY
    assert sleeps == [7.0]
    assert server.hits("/f") == 2


def test_retry_after_too_long_gives_up_at_once(server, client, sleeps, tmp_path: Path) -> None:
    server.add("/f", BODY)
    server.fail("/f", 503, retry_after="86400")
    with pytest.raises(FetchError, match="Retry-After"):
        download(client, server.url("/f"), tmp_path / "f", sleep=sleeps, policy=RetryPolicy(max_wait=60))
    assert sleeps == [] and server.hits("/f") == 1


def test_5xx_backs_off_exponentially_then_succeeds(server, client, sleeps, tmp_path: Path) -> None:
    server.add("/f", BODY)
    server.fail("/f", 502, times=2)
    got = download(client, server.url("/f"), tmp_path / "f", sleep=sleeps, policy=RetryPolicy(backoff=1.5))
    assert got.path is not None and got.path.read_bytes() == BODY
    assert sleeps == [1.5, 3.0]


def test_persistent_5xx_is_a_clean_error_and_leaves_no_file(server, client, sleeps, tmp_path: Path) -> None:
    server.add("/f", BODY)
    server.fail("/f", 500, times=10)
    with pytest.raises(FetchError) as err:
        download(client, server.url("/f"), tmp_path / "f", sleep=sleeps, policy=RetryPolicy(attempts=3))
    assert err.value.status == 500
    assert "3 attempts" in str(err.value)
    assert server.hits("/f") == 3 and len(sleeps) == 2
    assert list(tmp_path.iterdir()) == []


def test_404_is_not_retried(server, client, sleeps, tmp_path: Path) -> None:
    with pytest.raises(FetchError) as err:
        download(client, server.url("/missing"), tmp_path / "f", sleep=sleeps)
    assert err.value.status == 404 and sleeps == []


def test_truncated_body_is_detected_and_retried(server, client, sleeps, tmp_path: Path) -> None:
    server.add("/f", BODY)
    server.truncate("/f")
    got = download(client, server.url("/f"), tmp_path / "f", sleep=sleeps)
    assert got.path is not None and got.path.read_bytes() == BODY
    assert server.hits("/f") == 2 and len(sleeps) == 1


def test_always_truncated_fails_without_partial_file(server, client, sleeps, tmp_path: Path) -> None:
    server.add("/f", BODY)
    server.truncate("/f", times=5)
    with pytest.raises(FetchError, match="gave up"):
        download(client, server.url("/f"), tmp_path / "f", sleep=sleeps, policy=RetryPolicy(attempts=2))
    assert list(tmp_path.iterdir()) == []


def test_progress_reports_bytes_and_total(server, client, tmp_path: Path) -> None:
    server.add("/f", BODY)
    seen: list[tuple[int, int | None]] = []
    download(client, server.url("/f"), tmp_path / "f", progress=lambda n, t: seen.append((n, t)))
    assert seen and seen[-1] == (len(BODY), len(BODY))
    assert [n for n, _ in seen] == sorted(n for n, _ in seen)


def test_connection_refused_is_a_fetch_error(client, sleeps, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="ConnectError"):
        download(client, "http://127.0.0.1:9/x", tmp_path / "f", sleep=sleeps, policy=RetryPolicy(attempts=2))


@pytest.mark.parametrize(
    ("value", "expected"),
    [("120", 120.0), (None, None), ("", None), ("soon", None), ("Wed, 01 Jan 2025 00:01:00 GMT", 60.0)],
)
def test_retry_after_parsing(value: str | None, expected: float | None) -> None:
    now = 1735689600.0  # 2025-01-01T00:00:00Z
    assert retry_after_seconds(value, now=now) == expected


def _tar(where: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    out = where / "a.tar.gz"
    with tarfile.open(out, mode="w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tar.addfile(info)
    return out


def test_extract_tarball_strips_top_directory(tmp_path: Path) -> None:
    archive = _tar(tmp_path, {"repo-main/crates/x/RUSTSEC-2020-0001.md": b"x"})
    extract_tarball(archive, tmp_path / "out")
    assert (tmp_path / "out" / "crates" / "x" / "RUSTSEC-2020-0001.md").read_bytes() == b"x"


@pytest.mark.parametrize(
    ("members", "links"),
    [
        ({"top/../../escape.txt": b"evil"}, None),
        ({}, {"top/link": "/etc/passwd"}),
        ({}, {"top/link": "../../outside"}),
    ],
    ids=["dotdot", "abs-symlink", "rel-symlink-out"],
)
def test_extract_tarball_refuses_hostile_members(tmp_path: Path, members, links) -> None:
    archive = _tar(tmp_path, members, links)
    with pytest.raises(tarfile.TarError):
        extract_tarball(archive, tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()


def test_redirects_are_followed(server, tmp_path: Path) -> None:
    server.add("/new", BODY)
    server.add_dynamic("/old", lambda q, h: (301, b"", {"Location": server.url("/new")}))
    with httpx.Client(timeout=5.0, follow_redirects=False) as plain:
        got = download(plain, server.url("/old"), tmp_path / "f")
    assert got.path is not None and got.path.read_bytes() == BODY
