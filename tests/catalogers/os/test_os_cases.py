"""Golden cases: each ``cases/<case>/root`` is a small root filesystem; its inventory must equal ``expected.json``.

Set VULNHOUND_UPDATE_EXPECTED=1 to rewrite the expected files after a deliberate change (then review the diff).
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest

from vulnhound.catalogers.apk import ApkCataloger
from vulnhound.catalogers.dpkg import DpkgCataloger
from vulnhound.catalogers.interface import CatalogContext
from vulnhound.catalogers.rpm import RpmCataloger
from vulnhound.inventory.build import catalog_view
from vulnhound.inventory.model import Inventory
from vulnhound.sources.directory import DirView

CASES = Path(__file__).parent / "cases"


def snapshot(inv: Inventory) -> dict[str, Any]:
    pkgs = sorted(inv.packages, key=lambda p: (p.type, p.name, p.version, p.arch or ""))
    return {
        "os": dataclasses.asdict(inv.os) if inv.os else None,
        "packages": [
            {
                "name": p.name, "version": p.version, "type": p.type, "purl": p.purl, "arch": p.arch,
                "epoch": p.epoch, "release": p.release, "source_name": p.source_name,
                "source_version": p.source_version, "package_manager": p.package_manager,
                "maintainer": p.maintainer, "vendor": p.vendor, "licenses": list(p.licenses),
                "locations": [loc.path for loc in p.locations], "files": list(p.files), "metadata": p.metadata,
            }
            for p in pkgs
        ],
        "issues": sorted(
            ({"cataloger": i.cataloger, "path": i.path, "message": i.message, "offset": i.offset,
              "severity": i.severity} for i in inv.issues),
            key=lambda d: (d["cataloger"], d["path"], d["offset"] or 0, d["message"]),
        ),
    }


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir() if (p / "root").is_dir()))
def test_case(case: str) -> None:
    inv = catalog_view(DirView(str(CASES / case / "root")), [DpkgCataloger(), RpmCataloger(), ApkCataloger()],
                       CatalogContext())
    got = json.loads(json.dumps(snapshot(inv)))
    expected_file = CASES / case / "expected.json"
    if os.environ.get("VULNHOUND_UPDATE_EXPECTED"):
        expected_file.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n")
    assert got == json.loads(expected_file.read_text())
