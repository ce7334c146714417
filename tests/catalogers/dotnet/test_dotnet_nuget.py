""".NET cataloger (*.deps.json, packages.lock.json) over the case folders (expected.json beside each ``root``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from vulnhound.catalogers.dotnet import DotnetCataloger
from vulnhound.catalogers.interface import CatalogContext
from vulnhound.catalogers.lockfile import dump_summary, summarize_dir
from vulnhound.inventory.build import catalog_view
from vulnhound.sources.directory import DirView

CASES = Path(__file__).parent / "cases"


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir()))
def test_case(case: str) -> None:
    limit = CASES / case / "limit"
    got = summarize_dir(str(CASES / case / "root"), [DotnetCataloger()],
                        int(limit.read_text()) if limit.exists() else None)
    if os.environ.get("VULNHOUND_UPDATE_EXPECTED"):
        (CASES / case / "expected.json").write_text(dump_summary(got))
    assert got == json.loads((CASES / case / "expected.json").read_text())


def test_package_managers_and_frameworks() -> None:
    inv = catalog_view(DirView(str(CASES / "normal" / "root")), [DotnetCataloger()], CatalogContext())
    pm = {(p.name, p.version, p.path): p.package_manager for p in inv.packages}
    assert pm[("Serilog", "3.1.1", "app/Web.deps.json")] == "DOTNET_CORE"
    assert pm[("Newtonsoft.Json", "13.0.1", "src/Web/packages.lock.json")] == "NUGET"
    lock = next(p for p in inv.packages if p.path == "src/Web/packages.lock.json" and p.name == "Newtonsoft.Json")
    assert lock.metadata["frameworks"] == ["net6.0", "net8.0"]
