"""Importing real OSV records into the store (SQLite and PostgreSQL) and reading them back through the query API."""

from __future__ import annotations

import shutil
from pathlib import Path

from vulnhound.advisories.feeds.osv import OsvDirectoryFeed
from vulnhound.advisories.model import Advisory, DistroRelease, EpssScore, KevEntry, Reject
from vulnhound.advisories.store import KnowledgeBase, import_items

PYPA_FILES = ("requests/PYSEC-2023-74.yaml", "products-pluggableauthservice/PYSEC-2021-45.yaml",
              "scipy/PYSEC-2019-156.yaml", "jinja2/PYSEC-2014-8.yaml")
HARVEST_FILES = ("PyPI/GHSA-p44j-xrqg-4xrr.json", "PyPI/PYSEC-2019-156.json", "Maven/GHSA-2268-98wh-qfhf.json")


def _dirs(vulndata: Path, tmp: Path) -> tuple[Path, Path]:
    pypa = tmp / "pypa-advisory-database"
    for rel in PYPA_FILES:
        (pypa / "vulns" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(vulndata / "pypa-advisory-database/vulns" / rel, pypa / "vulns" / rel)
    harvest = tmp / "harvest"
    for rel in HARVEST_FILES:
        (harvest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(vulndata / "osv-fixture-harvest" / rel, harvest / rel)
    return pypa, harvest


def _load(kb: KnowledgeBase, vulndata: Path, tmp: Path) -> None:
    pypa, harvest = _dirs(vulndata, tmp)
    for path in (pypa, harvest):
        feed = OsvDirectoryFeed.from_mirror(path)
        import_items(kb.engine, feed.name, feed.parse(path), description=f"test {path.name}")


def test_affected_rows_and_normalized_names(kb: KnowledgeBase, vulndata: Path, tmp_path: Path) -> None:
    _load(kb, vulndata, tmp_path)
    rows = kb.affected_for("PyPI", "Jinja2")  # stored as "jinja2": PEP 503 lookup
    assert [(r.vuln_id, r.source) for r in rows] == [("PYSEC-2014-8", "pypa-advisory-database")]
    aff = rows[0].affected
    assert aff.fixed_versions() == ("2.7.2",)
    assert len(aff.versions) == 19 and aff.versions[0] == "2.0"  # enumerated versions kept in order
    assert rows[0].group_id == "CVE-2014-1402"


def test_alias_groups_across_sources(kb: KnowledgeBase, vulndata: Path, tmp_path: Path) -> None:
    _load(kb, vulndata, tmp_path)
    group = kb.group_of("GHSA-p44j-xrqg-4xrr")
    assert group == "CVE-2021-21337"
    assert kb.group_of("PYSEC-2021-45") == group
    assert kb.group_members(group) == ["CVE-2021-21337", "GHSA-p44j-xrqg-4xrr", "PYSEC-2021-45"]
    sources = sorted(a.source for a in kb.group_records(group))
    assert sources == ["osv-dir:harvest", "pypa-advisory-database"]  # each source's record kept
    prov = kb.provenance("PYSEC-2021-45")
    assert len(prov) == 1 and prov[0]["source"] == "pypa-advisory-database" and prov[0]["op_id"] >= 1


def test_withdrawn_record_left_out_of_matching(kb: KnowledgeBase, vulndata: Path, tmp_path: Path) -> None:
    _load(kb, vulndata, tmp_path)
    # PYSEC-2019-156: live in the PyPA copy, withdrawn in the osv.dev copy harvested from fixtures.
    live = kb.affected_for("PyPI", "scipy")
    assert {(r.vuln_id, r.source) for r in live} == {("PYSEC-2019-156", "pypa-advisory-database")}
    every = kb.affected_for("PyPI", "scipy", include_withdrawn=True)
    assert {r.source for r in every} == {"pypa-advisory-database", "osv-dir:harvest"}
    recs = {a.source: a for a in kb.advisory("PYSEC-2019-156")}
    assert recs["osv-dir:harvest"].withdrawn is not None and recs["pypa-advisory-database"].withdrawn is None


def test_advisory_round_trip_keeps_severities(kb: KnowledgeBase, vulndata: Path, tmp_path: Path) -> None:
    _load(kb, vulndata, tmp_path)
    (adv,) = kb.advisory("GHSA-2268-98wh-qfhf")
    assert isinstance(adv, Advisory) and adv.source == "osv-dir:harvest"
    assert any(s.type == "CVSS_V3" and s.score for s in adv.severities)
    assert any(s.source == "ghsa" and s.type == "VENDOR" for s in adv.severities)
    assert adv.affected[0].ecosystem == "Maven" and adv.affected[0].versions
    assert adv.cwes  # GHSA database_specific.cwe_ids


def test_batch_lookup_many_keys(kb: KnowledgeBase, vulndata: Path, tmp_path: Path) -> None:
    _load(kb, vulndata, tmp_path)
    keys = [("PyPI", f"nothing-{i}") for i in range(1200)] + [("PyPI", "requests"), ("PyPI", "Jinja2"),
                                                              ("npm", "requests")]
    got = kb.affected_for_many(keys)
    assert set(got) == {("PyPI", "requests"), ("PyPI", "Jinja2")}
    assert [r.vuln_id for r in got[("PyPI", "requests")]] == ["PYSEC-2023-74"]


def test_side_tables_and_rejects(kb: KnowledgeBase) -> None:
    items = [
        KevEntry("CVE-2021-44228", "Apache", "Log4j2", "Log4Shell", "2021-12-10", "2021-12-24", "Known"),
        KevEntry("CVE-2014-0160", "OpenSSL", "OpenSSL", "Heartbleed", "2022-05-04", "2022-05-25", "Unknown"),
        EpssScore("CVE-2021-44228", 0.97, 0.99, "v2023.03.01", "2025-02-20"),
        DistroRelease("debian", "12", "bookworm", None, "Debian:12"),
        DistroRelease("debian", "10", "buster", "2024-06-30", "Debian:10"),
        Reject("kev", "known_exploited_vulnerabilities.json#3", "missing cveID"),
        Reject("kev", "known_exploited_vulnerabilities.json#9", "missing cveID"),
    ]
    res = import_items(kb.engine, "cisa-kev", items)
    assert res.counts["kev"] == 2 and res.counts["rejects"] == 2
    kev = kb.kev(["CVE-2021-44228", "CVE-2000-0001"])
    assert list(kev) == ["CVE-2021-44228"] and kev["CVE-2021-44228"].ransomware_use == "Known"
    assert kb.epss(["CVE-2021-44228"])["CVE-2021-44228"].score == 0.97
    assert [(r.codename, r.eol) for r in kb.distro_releases("debian")] == [("buster", "2024-06-30"),
                                                                           ("bookworm", None)]
    (st,) = kb.status()
    assert st.name == "cisa-kev" and st.rejects == {"missing cveID": 2} and st.age_hours is not None
    # A full re-import replaces the catalog: the entry that left the catalog is gone.
    import_items(kb.engine, "cisa-kev", items[:1])
    assert list(kb.kev(["CVE-2021-44228", "CVE-2014-0160"])) == ["CVE-2021-44228"]
    assert kb.status()[0].rejects == {}
