"""Case runner for the folder-per-case cataloger tests (npm, Python): scan a case folder, compare with its
expected.json. Lives at the top of tests/ so that any test folder can import it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def scan_case(root: Path, catalogers: list[Any], max_file_size: int | None = None) -> dict[str, Any]:
    """Run ``catalogers`` over a directory the way build_inventory buckets paths; a JSON-able summary."""
    from vulnhound.catalogers.interface import CatalogContext
    from vulnhound.sources.directory import DirView

    view = DirView(str(root))
    ctx = CatalogContext() if max_file_size is None else CatalogContext(max_file_size=max_file_size)
    files = sorted(m.path for m in view.iter_files())
    packages: list[list[Any]] = []
    issues: list[list[Any]] = []
    for cat in catalogers:
        wanted = [p for p in files if cat.wants(p)]
        if not wanted:
            continue
        result = cat.catalog(view, wanted, ctx)
        packages += [[p.name, p.version, p.dev, p.found_by, p.path, p.package_manager, p.purl, list(p.licenses)]
                     for p in result.packages]
        issues += [[i.cataloger, i.path, i.severity, i.offset] for i in result.issues]
    return {"packages": sorted(packages), "issues": sorted(issues, key=str)}


def check_expected(case: Path, got: dict[str, Any]) -> None:
    """Compare with the case's expected.json; VULNHOUND_UPDATE_EXPECTED=1 rewrites it (review the diff)."""
    import os

    expected_file = case / "expected.json"
    if os.environ.get("VULNHOUND_UPDATE_EXPECTED") == "1":
        expected_file.write_text(json.dumps(got, indent=1) + "\n")
    assert got == json.loads(expected_file.read_text())
