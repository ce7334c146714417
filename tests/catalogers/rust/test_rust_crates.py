"""Cargo.lock and cargo-auditable catalogers over the case folders (expected.json beside each ``root``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from vulnhound.catalogers.interface import CatalogContext
from vulnhound.catalogers.lockfile import dump_summary, summarize_dir
from vulnhound.catalogers.rust import CargoAuditableCataloger, CargoLockCataloger
from vulnhound.inventory.build import catalog_view
from vulnhound.sources.directory import DirView

CASES = Path(__file__).parent / "cases"


@pytest.mark.parametrize("case", sorted(p.name for p in CASES.iterdir()))
def test_case(case: str) -> None:
    limit = CASES / case / "limit"
    got = summarize_dir(str(CASES / case / "root"), [CargoLockCataloger(), CargoAuditableCataloger()],
                        int(limit.read_text()) if limit.exists() else None)
    if os.environ.get("VULNHOUND_UPDATE_EXPECTED"):
        (CASES / case / "expected.json").write_text(dump_summary(got))
    assert got == json.loads((CASES / case / "expected.json").read_text())


def test_auditable_metadata() -> None:
    root = CASES / "auditable-normal" / "root"
    inv = catalog_view(DirView(str(root)), [CargoAuditableCataloger()], CatalogContext())
    by_name = {p.name: p for p in inv.packages}
    assert by_name["myapp"].metadata == {"source": "local", "root": True, "local": True}
    assert by_name["cc"].metadata["kind"] == "build"
    assert {p.package_manager for p in inv.packages} == {"CARGO"}
    assert {p.path for p in inv.packages} == {"usr/local/bin/auditable-app"}


def test_lockfile_marks_local_crates() -> None:
    inv = catalog_view(DirView(str(CASES / "lock-normal" / "root")), [CargoLockCataloger()], CatalogContext())
    local = sorted(p.name for p in inv.packages if p.metadata.get("local"))
    assert local == ["crt", "myapp", "old", "util"]
    tokio = next(p for p in inv.packages if p.name == "tokio")
    assert tokio.metadata["source"].startswith("git+https://github.com/tokio-rs/tokio")


def test_big_lockfile_parses_every_package(tmp_path: Path) -> None:
    n = 20_000
    src = "registry+https://github.com/rust-lang/crates.io-index"
    body = "version = 4\n" + "".join(f'\n[[package]]\nname = "c{i}"\nversion = "0.{i}.0"\nsource = "{src}"\n'
                                     for i in range(n))
    (tmp_path / "Cargo.lock").write_text(body)
    inv = catalog_view(DirView(str(tmp_path)), [CargoLockCataloger()], CatalogContext())
    assert len(inv.packages) == n and not inv.issues
    assert inv.packages[-1].purl == f"pkg:cargo/c{n - 1}@0.{n - 1}.0"
