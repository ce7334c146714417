"""Parsers over the real corpus in ../shared/vulndata: record counts, rejects explained, RustSec = its OSV export."""

from __future__ import annotations

import collections
import gzip
import json
from pathlib import Path

import pytest

from vulnhound.advisories.feeds.alpine_secdb import AlpineSecdbFeed
from vulnhound.advisories.feeds.debian_tracker import DebianTrackerFeed, distro_releases
from vulnhound.advisories.feeds.epss import EpssFeed
from vulnhound.advisories.feeds.kev import KevFeed
from vulnhound.advisories.feeds.nodejs_wg import NodejsSecurityWgFeed
from vulnhound.advisories.feeds.nvd import NvdFeed
from vulnhound.advisories.feeds.rubysec import RubySecFeed
from vulnhound.advisories.feeds.rustsec import RustSecFeed
from vulnhound.advisories.model import Advisory, EpssScore, KevEntry, Reject, VendorStatus


def _split(items):
    kinds = collections.Counter(type(i).__name__ for i in items)
    rejects = [i for i in items if isinstance(i, Reject)]
    return kinds, rejects


@pytest.fixture(scope="module")
def rustsec_items(vulndata: Path) -> list:
    return list(RustSecFeed().parse(vulndata / "rustsec-advisory-db" / "main"))


def test_rustsec_ranges_equal_the_official_osv_export_for_every_record(vulndata: Path, rustsec_items: list) -> None:
    root = vulndata / "rustsec-advisory-db"
    items = rustsec_items
    kinds, rejects = _split(items)
    assert rejects == []
    assert kinds["Advisory"] == 1205 + 20  # crates/*/*.md + rust/{std,cargo,rustdoc}/*.md
    ours = {a.id: a for a in items if isinstance(a, Advisory)}
    compared = 0
    mismatches = []
    for f in sorted((root / "osv" / "crates").glob("RUSTSEC-*.json")):
        osv = json.loads(f.read_bytes())
        mine = ours.get(osv["id"])
        if mine is None:
            continue
        compared += 1
        want = [e for r in osv["affected"][0]["ranges"] for e in r["events"]]
        got = [{e.kind.value: e.version} for r in mine.affected[0].ranges for e in r.events]
        if want != got:
            mismatches.append((osv["id"], want, got))
        assert sorted(mine.aliases) == sorted(osv.get("aliases") or []), osv["id"]
        assert (mine.withdrawn is None) == ("withdrawn" not in osv), osv["id"]
    assert compared == 1205
    assert mismatches == []


def test_rustsec_toolchain_advisories_are_not_crates(rustsec_items: list) -> None:
    items = [i for i in rustsec_items if isinstance(i, Advisory)]
    toolchain = [a for a in items if a.affected[0].ecosystem == "Rust"]
    assert {a.affected[0].name for a in toolchain} == {"std", "cargo", "rustdoc"}
    assert all(a.affected[0].purl and a.affected[0].purl.startswith("pkg:generic/") for a in toolchain)


def test_rubysec_corpus_parses_without_rejects(vulndata: Path) -> None:
    items = list(RubySecFeed().parse(vulndata / "rubysec-ruby-advisory-db"))
    kinds, rejects = _split(items)
    assert rejects == []
    assert kinds["Advisory"] == 1381
    ecos = collections.Counter(a.affected[0].ecosystem for a in items if isinstance(a, Advisory))
    assert ecos == {"RubyGems": 1234, "Ruby": 147}


def test_alpine_legacy_rejects_are_exactly_the_upstream_typos(vulndata: Path) -> None:
    items = list(AlpineSecdbFeed().parse(vulndata / "alpine-secdb-legacy"))
    kinds, rejects = _split(items)
    assert kinds["Advisory"] == 2470
    reasons = collections.Counter(r.reason for r in rejects)
    bad_versions = {k for k in reasons if k.startswith("invalid apk version")}
    bad_ids = {k for k in reasons if k.startswith("unrecognised id")}
    assert bad_versions | bad_ids == set(reasons)
    assert bad_ids == {"unrecognised id 'CVE_2019-2426'", "unrecognised id 'CVE 2018-16859'"}
    # e.g. "4.8.0.-r1", "6.6.2p1-r0", "2.7.16-33": versions apk itself would not accept
    assert sum(reasons[k] for k in bad_versions) == 24


def test_kev_catalog(vulndata: Path) -> None:
    items = list(KevFeed().parse(vulndata / "cisa-kev"))
    entries = [i for i in items if isinstance(i, KevEntry)]
    assert len(entries) == len(items) == 1404
    assert len({e.cve_id for e in entries}) == 1404
    assert collections.Counter(e.ransomware_use for e in entries).keys() <= {"Known", "Unknown"}


def test_nodejs_wg_corpus(vulndata: Path) -> None:
    items = list(NodejsSecurityWgFeed().parse(vulndata / "nodejs-security-wg"))
    kinds, rejects = _split(items)
    assert kinds["Advisory"] == 467 + 171 + 6
    # The one reject: npm/504.json carries "I:U/A:U", which no CVSS 3.0 vector allows; the record itself is kept.
    assert [(r.location, r.reason.split(":")[0]) for r in rejects] == [("vuln/npm/504.json", "invalid-cvss")]
    core = [a for a in items if isinstance(a, Advisory) and a.id.startswith("NSWG-COR-")]
    assert {a.affected[0].ecosystem for a in core} == {"Node.js"}
    assert all(a.affected[0].ranges for a in core)


def test_debian_tracker_statuses_stay_distinct(shared: Path) -> None:
    fixtures = shared / "vulndata/format-samples/vuls-data-update/pkg/fetch/debian/tracker/api/testdata/fixtures"
    advs = {a.id: a for a in DebianTrackerFeed().parse(fixtures / "advisory.json") if isinstance(a, Advisory)}
    by = {(a.ecosystem, a.name): a for a in advs["CVE-2016-5416"].affected}
    ignored = by[("Debian:11", "389-ds-base")]
    assert ignored.status is VendorStatus.IGNORED and ignored.status_reason == "<ignored> Minor issue"
    assert by[("Debian:unstable", "389-ds-base")].status is VendorStatus.UNFIXED
    assert {a.status for a in advs["CVE-2012-0833"].affected} == {VendorStatus.NOT_AFFECTED}
    assert advs["CVE-2016-5405"].affected[0].fixed_versions() == ("1.3.5.15-1",)

    listed = [a for a in DebianTrackerFeed().parse(shared / "vulndata/format-samples/vuln-list-update/debian/tracker"
                                                   "/testdata/happy") if isinstance(a, Advisory)]
    statuses = {(x.ecosystem, x.name): (x.status, x.status_reason) for a in listed for x in a.affected}
    assert statuses[("Debian:11", "putty")] == (VendorStatus.NO_DSA, "<no-dsa> Minor issue")
    assert statuses[("Debian:unstable", "ant")] == (VendorStatus.UNFIXED, "<unfixed> unimportant")
    assert statuses[("Debian:unstable", "putty")][0] is VendorStatus.FIXED

    vunnel = [a for a in DebianTrackerFeed().parse(shared / "vulndata/format-samples/vunnel/tests/unit/providers"
                                                   "/debian/test-fixtures/input") if isinstance(a, Advisory)]
    eol = [x for a in vunnel for x in a.affected if x.status is VendorStatus.END_OF_LIFE]
    assert {x.ecosystem for x in eol} == {"Debian:9", "Debian:10"}


def test_debian_all_eight_states_distinct(repo_root: Path) -> None:
    case = repo_root / "tests/advisories/feeds/cases/debian/statuses"
    got = {
        (x.ecosystem, x.status)
        for a in DebianTrackerFeed().parse(case)
        if isinstance(a, Advisory)
        for x in a.affected
    }
    assert {s for _, s in got} == {
        VendorStatus.FIXED,
        VendorStatus.NOT_AFFECTED,
        VendorStatus.NO_DSA,
        VendorStatus.IGNORED,
        VendorStatus.POSTPONED,
        VendorStatus.END_OF_LIFE,
        VendorStatus.UNDETERMINED,
        VendorStatus.UNFIXED,
    }


def test_debian_release_data() -> None:
    by = {r.codename: r for r in distro_releases()}
    assert by["bookworm"].ecosystem == "Debian:12" and by["sid"].version == "unstable"
    assert by["buster"].eol == "2024-06-30" and by["forky"].eol is None


def test_nvd_samples(shared: Path) -> None:
    base = shared / "vulndata/format-samples"
    page = list(NvdFeed().parse(base / "vunnel/tests/unit/providers/nvd/test-fixtures/full-page.json"))
    assert len(page) == 38 and all(isinstance(a, Advisory) for a in page)
    feeds = list(NvdFeed().parse(base / "vuls-data-update/pkg/fetch/nvd/feed/cve/v2/testdata/fixtures"))
    by_id: dict[str, Advisory] = {}
    for a in feeds:
        assert isinstance(a, Advisory)
        by_id[a.id] = a  # later files win: the modified feed is read last
    assert by_id["CVE-2021-3002"].details and by_id["CVE-2021-3002"].details.startswith("UPDATED BY MODIFIED FEED")
    assert NvdFeed.detect(base / "vuls-data-update/pkg/fetch/nvd/feed/cve/v2/testdata/fixtures")
    assert not NvdFeed.detect(base / "vuls-data-update/pkg/fetch/nvd/feed/cve/v1/testdata/fixtures")


@pytest.mark.parametrize(
    ("feed", "path", "expected"),
    [
        (KevFeed, "cisa-kev", True),
        (KevFeed, "rustsec-advisory-db/main", False),
        (RustSecFeed, "rustsec-advisory-db/main", True),
        (RustSecFeed, "rustsec-advisory-db", True),  # main/ beside osv/
        (RustSecFeed, "rubysec-ruby-advisory-db", False),
        (RubySecFeed, "rubysec-ruby-advisory-db", True),
        (RubySecFeed, "nodejs-security-wg", False),
        (NodejsSecurityWgFeed, "nodejs-security-wg", True),
        (NodejsSecurityWgFeed, "cisa-kev", False),
        (AlpineSecdbFeed, "alpine-secdb-legacy", True),
        (AlpineSecdbFeed, "cisa-kev", False),
        (DebianTrackerFeed, "format-samples/vunnel/tests/unit/providers/debian/test-fixtures/input", True),
        (DebianTrackerFeed, "format-samples/vuln-list-update/debian/tracker/testdata/happy", True),
        (DebianTrackerFeed, "cisa-kev", False),
        (EpssFeed, "format-samples/vunnel/tests/unit/providers/epss/test-fixtures", True),
        (EpssFeed, "format-samples/vuls-data-update/pkg/fetch/epss/testdata/fixtures", True),
        (EpssFeed, "cisa-kev", False),
        (NvdFeed, "format-samples/vunnel/tests/unit/providers/nvd/test-fixtures", True),
        (NvdFeed, "cisa-kev", False),
    ],
)
def test_detect(vulndata: Path, feed, path: str, expected: bool) -> None:
    assert feed.detect(vulndata / path) is expected


@pytest.fixture(scope="session")
def huge_epss(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An EPSS file the size of the real daily one (~300k rows), gzipped as upstream serves it."""
    path = tmp_path_factory.mktemp("epss") / "epss_scores-current.csv.gz"
    lines = ["#model_version:v2025.03.14,score_date:2026-11-26T12:55:00Z", "cve,epss,percentile"]
    lines += [f"CVE-{1999 + i % 27}-{i:05d},0.{i % 100000:05d},0.{(i * 7) % 100000:05d}" for i in range(300_000)]
    path.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=1))
    return path


@pytest.mark.slow
def test_epss_streams_a_real_sized_file(huge_epss: Path) -> None:
    count, last = 0, None
    for item in EpssFeed().parse(huge_epss):
        assert isinstance(item, EpssScore)
        count += 1
        last = item
    assert count == 300_000
    assert last is not None and last.cve_id == f"CVE-{1999 + 299_999 % 27}-299999"
    assert last.model_version == "v2025.03.14" and last.score == 0.99999


def test_mirror_discovery_claims_exactly_the_native_sources(vulndata: Path) -> None:
    from vulnhound.advisories.mirror import discover

    feeds = [c() for c in (AlpineSecdbFeed, DebianTrackerFeed, EpssFeed, KevFeed, NodejsSecurityWgFeed, NvdFeed,
                           RubySecFeed, RustSecFeed)]
    plan = discover(vulndata, feeds)
    claimed = {(f.name, p.relative_to(vulndata).as_posix()) for f, p in plan.entries}
    assert claimed == {
        ("alpine-secdb", "alpine-secdb-legacy"),
        ("cisa-kev", "cisa-kev"),
        ("nodejs-security-wg", "nodejs-security-wg"),
        ("rubysec", "rubysec-ruby-advisory-db"),
        ("rustsec", "rustsec-advisory-db"),
    }
