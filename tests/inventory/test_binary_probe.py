"""The Go and Rust binary catalogers share one probe per file: same results as each alone, fewer opens."""

from __future__ import annotations

import importlib.util
import shutil
from collections import Counter
from pathlib import Path
from typing import BinaryIO

from vulnhound.catalogers.golang.binary import GoBinaryCataloger
from vulnhound.catalogers.interface import CatalogContext, Cataloger
from vulnhound.catalogers.rust import CargoAuditableCataloger
from vulnhound.inventory.build import catalog_view
from vulnhound.inventory.model import Inventory
from vulnhound.sources.directory import DirView

CATALOGERS = Path(__file__).resolve().parents[1] / "catalogers"
SOURCES = {
    "auditable-app": CATALOGERS / "rust/cases/auditable-normal/root/usr/local/bin/auditable-app",
    "not-zlib": CATALOGERS / "rust/cases/auditable-corrupt/root/app/not-zlib",
    "fake-elf": CATALOGERS / "golang/cases/binary-notgo/root/app/fake-elf",
    "macho-cut": CATALOGERS / "golang/cases/binary-notgo/root/app/macho-cut",
    "tiny-elf": CATALOGERS / "golang/cases/binary-notgo/root/app/tiny-elf",
}


def _build_elf() -> bytes:
    """A plain ELF with a section table and neither a Go nor a cargo-auditable section (the common case)."""
    spec = importlib.util.spec_from_file_location("make_synthetic_elf", CATALOGERS / "rust/make_synthetic_elf.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    data: bytes = mod.build_elf([(".text", b"\x90" * 2048), (".data", b"\x01" * 64)])
    return data


class CountingView(DirView):
    def __init__(self, root: str) -> None:
        super().__init__(root)
        self.opens: Counter[str] = Counter()

    def open(self, path: str) -> BinaryIO:
        self.opens[path] += 1
        return super().open(path)


def _tree(tmp_path: Path) -> Path:
    (tmp_path / "bin").mkdir()
    for name, src in SOURCES.items():
        shutil.copyfile(src, tmp_path / "bin" / name)
    (tmp_path / "bin" / "plain-elf").write_bytes(_build_elf())
    (tmp_path / "bin" / "script").write_text("#!/bin/sh\n" + "echo hello\n" * 20)
    return tmp_path


def _summary(inv: Inventory) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    pkgs = sorted((p.found_by, p.name, p.version) for p in inv.packages)
    issues = sorted((i.cataloger, i.path, i.message) for i in inv.issues)
    return pkgs, issues


def test_shared_probe_keeps_results_and_opens_each_file_once(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    alone: tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]] = ([], [])
    for cat in (GoBinaryCataloger(), CargoAuditableCataloger()):
        pkgs, issues = _summary(catalog_view(DirView(str(root)), [cat], CatalogContext()))
        alone[0].extend(pkgs)
        alone[1].extend(issues)
    view = CountingView(str(root))
    cats: list[Cataloger] = [GoBinaryCataloger(), CargoAuditableCataloger()]
    together = _summary(catalog_view(view, cats, CatalogContext()))
    assert together == (sorted(alone[0]), sorted(alone[1]))
    assert any(found_by == "rust-cargo-auditable" for found_by, _, _ in together[0])
    # Probed once each; opened again only to read a .dep-v0 section that is there, or for Go to scan a file
    # whose section table is cut (the ELF and Mach-O ones without a .go.buildinfo section are not reopened).
    opens = {p: n for p, n in view.opens.items() if p.startswith("bin/")}
    assert opens == {"bin/auditable-app": 2, "bin/not-zlib": 2, "bin/fake-elf": 2, "bin/macho-cut": 2,
                     "bin/plain-elf": 1, "bin/script": 1}  # tiny-elf: under 64 bytes, never opened


class UnreadableView(DirView):
    def open(self, path: str) -> BinaryIO:
        raise PermissionError(13, "Permission denied", path)


def test_an_unreadable_candidate_is_reported_once_not_by_every_binary_cataloger(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "server").write_bytes(_build_elf())
    cats: list[Cataloger] = [GoBinaryCataloger(), CargoAuditableCataloger()]
    inv = catalog_view(UnreadableView(str(tmp_path)), cats, CatalogContext())
    assert [(i.path, i.message.split(":")[0]) for i in inv.issues] == [("app/server", "unreadable")]
    assert inv.packages == []
