"""Catalogers against real tools' answers: this machine's dpkg-query, and rpm's own -qa lists for real databases."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from vulnhound.catalogers.dpkg import DpkgCataloger
from vulnhound.catalogers.interface import CatalogContext, CatalogResult
from vulnhound.catalogers.rpm import RpmCataloger
from vulnhound.inventory.model import Package
from vulnhound.sources.directory import DirView
from vulnhound.sources.interface import BytesView

CASES = Path(__file__).parent / "cases"
DPKG_FORMAT = "${Package}\t${Version}\t${Architecture}\t${source:Package}\t${source:Version}\t${db:Status-Abbrev}\n"


@pytest.mark.skipif(shutil.which("dpkg-query") is None or not Path("/var/lib/dpkg/status").is_file(),
                    reason="not a dpkg system")
def test_dpkg_matches_dpkg_query_on_this_machine() -> None:
    out = subprocess.run(["dpkg-query", "-W", "-f", DPKG_FORMAT], capture_output=True, text=True, check=True,
                         timeout=60).stdout
    # dpkg-query also lists removed packages whose config files remain (rc) and known-but-absent ones (?n)
    expected = sorted(tuple(row[:5]) for row in csv.reader(out.splitlines(), delimiter="\t")
                      if row[5][1] not in "nc")
    r = DpkgCataloger().catalog(DirView("/"), ["var/lib/dpkg/status"], CatalogContext(include_files=False))
    got = sorted((p.name, p.version, p.arch, p.source_name, p.source_version) for p in r.packages)
    assert r.issues == []
    assert got == expected


def _rpm_rows(pkgs: list[Package]) -> list[tuple[str, ...]]:
    return [(p.name, "(none)" if p.epoch is None else str(p.epoch), p.version.split(":", 1)[-1].rsplit("-", 1)[0],
             p.release or "(none)", p.arch or "(none)", str(p.metadata.get("sourcerpm", "(none)")))
            for p in pkgs]


def _catalog_file(file: Path, view_path: str) -> tuple[list[Package], list[object]]:
    view = BytesView({view_path: file.read_bytes()})
    r = RpmCataloger().catalog(view, [view_path], CatalogContext())
    return r.packages, list(r.issues)


def _tsv(path: Path) -> list[tuple[str, ...]]:
    return [tuple(line.split("\t")) for line in path.read_text().splitlines() if line]


@pytest.mark.parametrize(("folder", "file", "view_path"), [
    ("cbl-mariner-2.0", "rpmdb.sqlite", "var/lib/rpm/rpmdb.sqlite"),
    ("libuuid", "Packages", "var/lib/rpm/Packages"),
])
def test_rpm_shared_fixtures_match_rpm_qa(shared: Path, folder: str, file: str, view_path: str) -> None:
    pkgs, issues = _catalog_file(shared / "rpmdb-fixtures" / folder / file, view_path)
    assert issues == []
    # same order too: rpm -qa walks the database in record order, and so do we
    assert _rpm_rows(pkgs) == _tsv(shared / "rpmdb-fixtures" / folder / "expected.tsv")


def test_rpm_ndb_fixture_matches_expected(shared: Path) -> None:
    folder = shared / "rpmdb-fixtures" / "sle15-bci"
    pkgs, issues = _catalog_file(folder / "Packages.db", "usr/lib/sysimage/rpm/Packages.db")
    expected = [(p["name"], "(none)" if p["epoch"] is None else str(p["epoch"]), p["version"], p["release"],
                 p["arch"], p["sourcerpm"]) for p in json.loads((folder / "expected.json").read_text())["packages"]]
    assert issues == []
    assert sorted(_rpm_rows(pkgs)) == sorted(expected)


def test_rpm_file_lists_from_real_databases(shared: Path) -> None:
    pkgs, _ = _catalog_file(shared / "rpmdb-fixtures" / "libuuid" / "Packages", "var/lib/rpm/Packages")
    assert "usr/lib64/libuuid.so.1" in pkgs[0].files
    pkgs, _ = _catalog_file(shared / "rpmdb-fixtures" / "cbl-mariner-2.0" / "rpmdb.sqlite", "var/lib/rpm/rpmdb.sqlite")
    bash = next(p for p in pkgs if p.name == "bash")
    assert "bin/bash" in bash.files


def test_rpm_built_database_matches_rpm_qa() -> None:
    """The committed sqlite db was made by Debian's rpm 4.18 from specs/ (rpmbuild, rpm -i --justdb, --import)."""
    case = CASES / "rpm-sqlite-built"
    pkgs, issues = _catalog_file(case / "root/var/lib/rpm/rpmdb.sqlite", "var/lib/rpm/rpmdb.sqlite")
    assert issues == []
    assert _rpm_rows(pkgs) == _tsv(case / "rpm-qa.tsv")


def test_sqlite_reader_leaves_no_files_behind(shared: Path) -> None:
    folder = shared / "rpmdb-fixtures" / "cbl-mariner-2.0"
    before = sorted(p.name for p in folder.iterdir())
    res = CatalogResult()
    # a directory view hands sqlite the file itself (no temporary copy): nothing may appear beside it
    RpmCataloger().catalog_db(DirView(str(folder)), "rpmdb.sqlite", CatalogContext(), res)
    assert len(res.packages) == 129
    assert sorted(p.name for p in folder.iterdir()) == before


SYFT = Path("/opt/peers/syft/bin/syft")


@pytest.mark.slow
@pytest.mark.skipif(not SYFT.is_file(), reason="peer tool Syft not installed")
@pytest.mark.parametrize("case", ["dpkg-normal", "rpm-sqlite-built", "apk-normal"])
def test_purls_equal_syft(case: str) -> None:
    """Same PURL as Syft for every package both report (Syft also lists rc/purged dpkg entries; we do not)."""
    import os as _os

    env = {**_os.environ, "SYFT_CHECK_FOR_APP_UPDATE": "false"}
    out = subprocess.run([str(SYFT), "scan", f"dir:{CASES / case / 'root'}", "-o", "syft-json", "-q"],
                         capture_output=True, text=True, check=True, timeout=120, env=env).stdout
    theirs = {(a["name"], a["version"]): a["purl"] for a in json.loads(out)["artifacts"]}
    ours = {(p["name"], p["version"]): p["purl"]
            for p in json.loads((CASES / case / "expected.json").read_text())["packages"]}
    assert set(ours) <= set(theirs)
    assert {k: theirs[k] for k in ours} == ours
