"""Java archive cataloger over the case folders (expected.json beside each ``root``) and its bounds."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from vulnhound.catalogers.interface import CatalogContext
from vulnhound.catalogers.java.archive import JavaArchiveCataloger
from vulnhound.catalogers.java.metadata import name_version_from_filename, parse_manifest, parse_properties
from vulnhound.catalogers.lockfile import dump_summary, summarize_dir
from vulnhound.inventory.build import catalog_view
from vulnhound.sources.directory import DirView

CASES = Path(__file__).parent / "cases"


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir()))
def test_case(case: str) -> None:
    limit = CASES / case / "limit"
    got = summarize_dir(str(CASES / case / "root"), [JavaArchiveCataloger()],
                        int(limit.read_text()) if limit.exists() else None)
    if os.environ.get("VULNHOUND_UPDATE_EXPECTED"):
        (CASES / case / "expected.json").write_text(dump_summary(got))
    assert got == json.loads((CASES / case / "expected.json").read_text())


def _packages(case: str) -> dict[tuple[str, str], dict[str, object]]:
    inv = catalog_view(DirView(str(CASES / case / "root")), [JavaArchiveCataloger()], CatalogContext())
    return {(p.name, p.metadata.get("virtual_path") or p.path or ""): p.metadata for p in inv.packages}


def test_nested_archives_are_located_at_the_outer_file() -> None:
    got = _packages("normal")
    assert ("commons-cli:commons-cli", "srv/bundle.ear:webapp.war:WEB-INF/lib/commons-cli.jar") in got
    assert ("com.google.errorprone:error_prone_annotations",
            "opt/boot/app.jar:BOOT-INF/lib/error_prone_annotations-2.18.0.jar") in got
    plugin = got[("io.jenkins.plugins:plugin", "opt/plugin.jpi")]
    assert plugin["from_manifest"] is True and plugin["implementation_title"] == "my-plugin"


def test_bounds_are_reported_as_notes() -> None:
    inv = catalog_view(DirView(str(CASES / "bomb" / "root")), [JavaArchiveCataloger()], CatalogContext())
    messages = sorted(i.message for i in inv.issues)
    assert any("zeros.jar: refused: compression ratio" in m for m in messages)
    assert any("level5.jar:lib/level6.jar: nested deeper than 4" in m for m in messages)
    assert {i.severity for i in inv.issues} == {"note"}


def test_budget_limits_total_inflated_bytes() -> None:
    """The whole archive may inflate at most max_file_size bytes, however it is split into entries."""
    root = CASES / "normal" / "root" / "srv"
    inv = catalog_view(DirView(str(root)), [JavaArchiveCataloger()], CatalogContext(max_file_size=60_000))
    assert any("inflates past" in i.message for i in inv.issues)


def test_manifest_parsing() -> None:
    text = "Manifest-Version: 1.0\r\nBundle-SymbolicName: org.exa\r\n mple;singleton:=true\r\n\r\nName: x\r\nA: b\r\n"
    assert parse_manifest(text) == {"Manifest-Version": "1.0", "Bundle-SymbolicName": "org.example;singleton:=true"}
    assert parse_properties("# c\n! c\ngroupId = g\nartifactId:a\nversion 1\n") == {
        "groupId": "g", "artifactId": "a", "version": "1"}
    assert name_version_from_filename("lib/guava-31.1-jre.jar") == ("guava", "31.1-jre")
    assert name_version_from_filename("gettext.jar") == ("gettext", None)
