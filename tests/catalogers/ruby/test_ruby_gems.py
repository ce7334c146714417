"""Gemfile.lock and installed gemspec catalogers over the case folders (expected.json beside each ``root``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from vulnhound.catalogers.interface import CatalogContext
from vulnhound.catalogers.lockfile import dump_summary, summarize_dir
from vulnhound.catalogers.ruby import GemfileLockCataloger, GemspecCataloger
from vulnhound.inventory.build import catalog_view
from vulnhound.sources.directory import DirView

CASES = Path(__file__).parent / "cases"


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir()))
def test_case(case: str) -> None:
    limit = CASES / case / "limit"
    got = summarize_dir(str(CASES / case / "root"), [GemfileLockCataloger(), GemspecCataloger()],
                        int(limit.read_text()) if limit.exists() else None)
    if os.environ.get("VULNHOUND_UPDATE_EXPECTED"):
        (CASES / case / "expected.json").write_text(dump_summary(got))
    assert got == json.loads((CASES / case / "expected.json").read_text())


def test_lockfile_sources_and_platforms() -> None:
    inv = catalog_view(DirView(str(CASES / "normal" / "root")), [GemfileLockCataloger()], CatalogContext())
    meta = {(p.name, p.metadata.get("platform")): p for p in inv.packages}
    assert meta[("nokogiri", "x86_64-linux")].purl == "pkg:gem/nokogiri@1.15.4?platform=x86_64-linux"
    assert meta[("actionpack", None)].metadata["source"] == "GIT"
    assert meta[("billing", None)].metadata["source"] == "PATH"
    assert {p.package_manager for p in inv.packages} == {"BUNDLER"}


def test_gemspec_fields() -> None:
    inv = catalog_view(DirView(str(CASES / "hostile" / "root")), [GemspecCataloger()], CatalogContext())
    [evil] = inv.packages
    assert (evil.name, evil.version, evil.licenses, evil.package_manager) == ("evil", "6.6.6", ("MIT", "Apache-2.0"),
                                                                              "GEMSPEC")


def test_wants() -> None:
    lock, spec = GemfileLockCataloger(), GemspecCataloger()
    assert lock.wants("srv/app/Gemfile.lock") and lock.wants("gems.locked") and not lock.wants("srv/MyGemfile.lock")
    assert spec.wants("usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec")
    assert not spec.wants("src/mygem/mygem.gemspec")  # a source checkout's gemspec is Ruby code, not an install
