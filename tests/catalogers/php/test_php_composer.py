"""Composer cataloger (composer.lock, vendor/composer/installed.json v1 and v2) over the case folders."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from vulnhound.catalogers.interface import CatalogContext
from vulnhound.catalogers.lockfile import dump_summary, summarize_dir
from vulnhound.catalogers.php import ComposerCataloger
from vulnhound.inventory.build import catalog_view
from vulnhound.sources.directory import DirView

CASES = Path(__file__).parent / "cases"


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir()))
def test_case(case: str) -> None:
    limit = CASES / case / "limit"
    got = summarize_dir(str(CASES / case / "root"), [ComposerCataloger()],
                        int(limit.read_text()) if limit.exists() else None)
    if os.environ.get("VULNHOUND_UPDATE_EXPECTED"):
        (CASES / case / "expected.json").write_text(dump_summary(got))
    assert got == json.loads((CASES / case / "expected.json").read_text())


def test_wants_only_composer_files() -> None:
    c = ComposerCataloger()
    assert c.wants("app/composer.lock") and c.wants("srv/vendor/composer/installed.json")
    assert not c.wants("app/my-composer.lock") and not c.wants("app/composer/installed.json")
    assert not c.wants("app/installed.json")


def test_licenses_and_package_manager() -> None:
    inv = catalog_view(DirView(str(CASES / "normal" / "root")), [ComposerCataloger()], CatalogContext())
    guzzle = next(p for p in inv.packages if p.name == "guzzlehttp/guzzle")
    assert guzzle.licenses == ("MIT",) and guzzle.package_manager == "COMPOSER"
    assert guzzle.path == "app/composer.lock"
