"""Every feed's fetch() through real HTTP against a local server serving the real sample files, then parse()."""

from __future__ import annotations

import gzip
import io
import json
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from vulnhound.advisories.feeds.alpine_secdb import AlpineSecdbFeed
from vulnhound.advisories.feeds.debian_tracker import DebianTrackerFeed
from vulnhound.advisories.feeds.epss import EpssFeed
from vulnhound.advisories.feeds.http import FetchError
from vulnhound.advisories.feeds.interface import FetchState
from vulnhound.advisories.feeds.kev import KevFeed
from vulnhound.advisories.feeds.nodejs_wg import NodejsSecurityWgFeed
from vulnhound.advisories.feeds.nvd import NvdFeed
from vulnhound.advisories.feeds.rubysec import RubySecFeed
from vulnhound.advisories.feeds.rustsec import RustSecFeed
from vulnhound.advisories.model import Advisory, EpssScore, KevEntry, Reject


def _advisories(items) -> list[Advisory]:
    return [i for i in items if isinstance(i, Advisory)]


def test_kev_fetch_parse_and_304(server, client, vulndata: Path, tmp_path: Path) -> None:
    body = (vulndata / "cisa-kev" / "known_exploited_vulnerabilities.json").read_bytes()
    server.add("/kev.json", body, "application/json")
    feed = KevFeed(server.url("/kev.json"))
    res = feed.fetch(client, tmp_path / "s1", FetchState())
    assert not res.unchanged and res.snapshot is not None and res.bytes_downloaded == len(body)
    entries = [i for i in feed.parse(res.snapshot) if isinstance(i, KevEntry)]
    assert len(entries) == 1404
    again = feed.fetch(client, tmp_path / "s2", res.state)
    assert again.unchanged and again.snapshot is None


def test_epss_fetch_gzip_as_upstream(server, client, shared: Path, tmp_path: Path) -> None:
    csv = shared / "vulndata/format-samples/vunnel/tests/unit/providers/epss/test-fixtures/example-1.csv"
    server.add("/epss_scores-current.csv.gz", gzip.compress(csv.read_bytes()), "application/gzip")
    feed = EpssFeed(server.url("/epss_scores-current.csv.gz"))
    res = feed.fetch(client, tmp_path / "s", FetchState())
    assert res.snapshot is not None
    assert (res.snapshot / "epss_scores-current.csv.gz").read_bytes()[:2] == b"\x1f\x8b"  # kept as served
    scores = [i for i in feed.parse(res.snapshot) if isinstance(i, EpssScore)]
    assert len(scores) == 5 and scores[0].model_version == "v2023.03.01"


def test_debian_tracker_fetch_parse_and_304(server, client, shared: Path, tmp_path: Path) -> None:
    fixtures = shared / "vulndata/format-samples/vuls-data-update/pkg/fetch/debian/tracker/api/testdata/fixtures"
    src = fixtures / "advisory.json"
    server.add("/tracker/data/json", src.read_bytes(), "application/json")
    feed = DebianTrackerFeed(server.url("/tracker/data/json"))
    res = feed.fetch(client, tmp_path / "s", FetchState())
    assert res.snapshot is not None and DebianTrackerFeed.detect(res.snapshot)
    advs = _advisories(feed.parse(res.snapshot))
    assert {a.id for a in advs} == {"CVE-2012-0833", "CVE-2016-5405", "CVE-2016-5416", "TEMP-0000000-0CA7E3"}
    assert feed.fetch(client, tmp_path / "s2", res.state).unchanged


def _alpine_index(releases: list[str]) -> bytes:
    links = "".join(f'<a href="{r}/">{r}/</a>\n' for r in releases)
    return f"<html><body><pre><a href=\"../\">../</a>\n{links}</pre></body></html>".encode()


def test_alpine_fetch_all_releases_then_unchanged(server, client, shared: Path, tmp_path: Path) -> None:
    fixtures = shared / "vulndata/format-samples/vuls-data-update/pkg/fetch/alpine/secdb/testdata/fixtures"
    server.add("/", _alpine_index(["v3.16", "v3.2", "edge"]), "text/html")
    for rel in ("v3.16", "v3.2", "edge"):
        for repo in ("main", "community"):
            f = fixtures / rel / f"{repo}.json"
            # v3.2 has no community.json upstream in the fixture: serve an empty repository like secdb does.
            body = f.read_bytes() if f.exists() else json.dumps(
                {"distroversion": rel, "reponame": repo, "packages": []}
            ).encode()
            server.add(f"/{rel}/{repo}.json", body, "application/json")
    feed = AlpineSecdbFeed(server.url("/"))
    res = feed.fetch(client, tmp_path / "s1", FetchState())
    assert res.snapshot is not None and len(res.state.extra) == 6
    advs = _advisories(feed.parse(res.snapshot))
    ecosystems = {a.ecosystem for adv in advs for a in adv.affected}
    assert ecosystems == {"Alpine:v3.16", "Alpine:v3.2", "Alpine:edge"}
    again = feed.fetch(client, tmp_path / "s2", res.state)
    assert again.unchanged


def test_alpine_partial_change_refetches_a_complete_snapshot(server, client, shared: Path, tmp_path: Path) -> None:
    fixtures = shared / "vulndata/format-samples/vuls-data-update/pkg/fetch/alpine/secdb/testdata/fixtures"
    server.add("/", _alpine_index(["v3.16"]), "text/html")
    for repo in ("main", "community"):
        server.add(f"/v3.16/{repo}.json", (fixtures / "v3.16" / f"{repo}.json").read_bytes())
    feed = AlpineSecdbFeed(server.url("/"))
    first = feed.fetch(client, tmp_path / "s1", FetchState())
    doc = json.loads((fixtures / "v3.16" / "main.json").read_bytes())
    doc["packages"][0]["pkg"]["secfixes"]["9.9.9-r0"] = ["CVE-2099-0001"]
    server.add("/v3.16/main.json", json.dumps(doc).encode())
    second = feed.fetch(client, tmp_path / "s2", first.state)
    assert not second.unchanged and second.snapshot is not None
    assert (second.snapshot / "v3.16" / "community.json").exists()  # 304'd file fetched again
    assert "ALPINE-CVE-2099-0001" in {a.id for a in _advisories(feed.parse(second.snapshot))}


def _repo_tarball(root: Path, files: list[Path], top: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for f in files:
            tar.add(f, arcname=f"{top}/{f.relative_to(root).as_posix()}")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("feed_cls", "subdir", "pattern", "top"),
    [
        (RustSecFeed, "rustsec-advisory-db/main", "crates/a*/*.md", "advisory-db-main"),
        (RubySecFeed, "rubysec-ruby-advisory-db", "gems/a*/*.yml", "ruby-advisory-db-master"),
        (NodejsSecurityWgFeed, "nodejs-security-wg", "vuln/*/1*.json", "security-wg-main"),
    ],
)
def test_tarball_feeds_fetch_and_parse(server, client, vulndata: Path, tmp_path: Path, feed_cls, subdir, pattern, top):
    root = vulndata / subdir
    files = sorted(root.glob(pattern))
    assert files
    server.add("/repo.tar.gz", _repo_tarball(root, files, top), "application/gzip")
    feed = feed_cls(server.url("/repo.tar.gz"))
    res = feed.fetch(client, tmp_path / "snap", FetchState())
    assert res.snapshot is not None and not (tmp_path / "snap.tar.gz").exists()
    assert feed_cls.detect(res.snapshot)
    items = list(feed.parse(res.snapshot))
    advs = _advisories(items)
    assert len(advs) == len(files) - sum(1 for i in items if isinstance(i, Reject) and "cvss" not in i.reason)
    assert feed.fetch(client, tmp_path / "snap2", res.state).unchanged


def test_tarball_feed_corrupt_archive_is_fetch_error(server, client, tmp_path: Path) -> None:
    server.add("/repo.tar.gz", b"\x1f\x8b" + b"not really gzip" * 10, "application/gzip")
    with pytest.raises(FetchError, match="bad tarball"):
        RustSecFeed(server.url("/repo.tar.gz")).fetch(client, tmp_path / "snap", FetchState())


# --- NVD ----------------------------------------------------------------------------------------------------------


def _nvd_api(records: list[dict], seen_windows: list[tuple[str, str]]):
    def handler(query, headers):
        start = int(query.get("startIndex", ["0"])[0])
        size = int(query.get("resultsPerPage", ["2000"])[0])
        if "lastModStartDate" in query:
            seen_windows.append((query["lastModStartDate"][0], query["lastModEndDate"][0]))
        page = records[start : start + size]
        doc = {
            "resultsPerPage": len(page),
            "startIndex": start,
            "totalResults": len(records),
            "format": "NVD_CVE",
            "version": "2.0",
            "timestamp": "2023-10-18T18:04:18.493",
            "vulnerabilities": page,
        }
        return 200, json.dumps(doc).encode(), {}

    return handler


def test_nvd_full_fetch_pages_with_key_and_rate_limit(server, client, sleeps, shared: Path, tmp_path: Path) -> None:
    page = json.loads((shared / "vulndata/format-samples/vunnel/tests/unit/providers/nvd/test-fixtures/full-page.json")
                      .read_bytes())
    windows: list[tuple[str, str]] = []
    server.add_dynamic("/rest/json/cves/2.0", _nvd_api(page["vulnerabilities"], windows))
    feed = NvdFeed(server.url("/rest/json/cves/2.0"), api_key="k-123", sleep=sleeps, page_size=10,
                   now=datetime(2024, 1, 1, tzinfo=UTC))
    res = feed.fetch(client, tmp_path / "s", FetchState())
    assert res.snapshot is not None and not res.unchanged
    assert len(list(res.snapshot.glob("page-*.json"))) == 4  # 38 records / 10 per page
    assert [r.query["startIndex"] for r in server.requests] == [["0"], ["10"], ["20"], ["30"]]
    assert all(r.headers.get("apikey") == "k-123" for r in server.requests)
    assert sleeps == [0.6, 0.6, 0.6] and windows == []
    assert res.state.cursor == "2024-01-01T00:00:00.000+00:00"
    advs = _advisories(feed.parse(res.snapshot))
    assert len(advs) == 38 and len({a.id for a in advs}) == 38


def test_nvd_incremental_splits_windows_of_120_days(server, client, sleeps, tmp_path: Path) -> None:
    windows: list[tuple[str, str]] = []
    server.add_dynamic("/api", _nvd_api([], windows))
    feed = NvdFeed(server.url("/api"), api_key="", sleep=sleeps, now=datetime(2024, 12, 31, tzinfo=UTC))
    assert feed.api_key is None and feed.pause == 6.0  # no key: 5 requests per 30 s
    res = feed.fetch(client, tmp_path / "s", FetchState(cursor="2024-01-01T00:00:00.000+00:00"))
    assert res.unchanged and res.snapshot is None
    assert windows == [
        ("2024-01-01T00:00:00.000+00:00", "2024-04-30T00:00:00.000+00:00"),
        ("2024-04-30T00:00:00.000+00:00", "2024-08-28T00:00:00.000+00:00"),
        ("2024-08-28T00:00:00.000+00:00", "2024-12-26T00:00:00.000+00:00"),
        ("2024-12-26T00:00:00.000+00:00", "2024-12-31T00:00:00.000+00:00"),
    ]
    assert sleeps == [6.0, 6.0, 6.0]
    assert res.state.cursor == "2024-12-31T00:00:00.000+00:00"


def test_nvd_403_rate_limited_is_retried(server, client, sleeps, tmp_path: Path) -> None:
    calls = {"n": 0}
    inner = _nvd_api([], [])

    def handler(query, headers):
        calls["n"] += 1
        if calls["n"] == 1:
            return 403, b"rate limited", {"Retry-After": "30"}
        return inner(query, headers)

    server.add_dynamic("/api", handler)
    feed = NvdFeed(server.url("/api"), api_key="k", sleep=sleeps, now=datetime(2024, 1, 2, tzinfo=UTC))
    res = feed.fetch(client, tmp_path / "s", FetchState(cursor="2024-01-01T00:00:00Z"))
    assert res.unchanged and sleeps == [30.0] and calls["n"] == 2


def test_nvd_bad_page_is_fetch_error(server, client, sleeps, tmp_path: Path) -> None:
    server.add_dynamic("/api", lambda q, h: (200, b'{"unexpected": true}', {}))
    with pytest.raises(FetchError, match="bad API page"):
        NvdFeed(server.url("/api"), api_key="k", sleep=sleeps).fetch(client, tmp_path / "s", FetchState())
