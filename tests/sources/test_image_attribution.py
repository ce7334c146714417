"""Layer attribution: a package belongs to the earliest layer from which it stays present up to the top."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from imagebuild import Layer, build_image
from packageurl import PackageURL

from vulnhound.catalogers.interface import CatalogContext, Cataloger, CatalogResult
from vulnhound.inventory.build import build_inventory
from vulnhound.inventory.model import CatalogIssue, Location, Package
from vulnhound.sources.interface import FileView
from vulnhound.sources.resolve import open_source


class PkgsTxt(Cataloger):
    """A toy package database: one "name version" per line in any pkgs.txt."""

    name = "pkgs-txt"

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def wants(self, path: str) -> bool:
        return path.endswith("pkgs.txt")

    def catalog(self, view: FileView, paths: Sequence[str], ctx: CatalogContext) -> CatalogResult:
        self.calls.append(list(paths))
        out = CatalogResult()
        for path in paths:
            for n, line in enumerate(view.read_text(path).splitlines()):
                parts = line.split()
                if len(parts) != 2:
                    out.issues.append(CatalogIssue(self.name, path, "bad line", offset=n))
                    continue
                purl = PackageURL(type="generic", name=parts[0], version=parts[1]).to_string()
                out.packages.append(Package(parts[0], parts[1], "generic", purl, self.name, [Location(path)]))
        return out


LAYERS = [
    Layer([("file", "etc/os-release", b"ID=debian\nVERSION_ID=12\n"), ("file", "var/pkgs.txt", b"a 1\nb 1\nd 1\n"),
           ("file", "opt/app/pkgs.txt", b"x 1\n")]),
    Layer([("file", "var/pkgs.txt", b"a 1\nb 1\n"), ("file", "unrelated", b"u")]),  # d removed
    Layer([("file", "var/pkgs.txt", b"a 1\nb 2\nc 1\nd 1\n")]),  # b upgraded, c added, d back
    Layer([("file", "more", b"m")]),
    Layer([("whiteout", "opt/app"), ("file", "opt/app/pkgs.txt", b"x 1\n")]),  # deleted and rewritten
]


def test_packages_get_the_layer_that_introduced_them(tmp_path: Path) -> None:
    img = build_image(tmp_path / "img", LAYERS)
    l0, _, l2, _, _ = img.diff_ids
    cat = PkgsTxt()
    with open_source(f"oci-dir:{img.layout}") as src:
        inv = build_inventory(src, catalogers=[cat])
    layers = {(p.name, p.version, p.path): p.layer for p in inv.packages}
    assert layers == {
        ("a", "1", "var/pkgs.txt"): l0,
        ("b", "2", "var/pkgs.txt"): l2,
        ("c", "1", "var/pkgs.txt"): l2,
        ("d", "1", "var/pkgs.txt"): l2,  # present in layer 0, gone in 1: continuity starts again at 2
        # Whited out and rewritten within layer 4: the state after layer 3 and after layer 4 both hold it.
        ("x", "1", "opt/app/pkgs.txt"): l0,
    }
    assert inv.os is not None and inv.os.id == "debian"
    # One full run, then one per lower layer that wrote a pkgs.txt (0, 1, 2), never for layers 3 and 4's top.
    assert len(cat.calls) == 4


def test_flat_views_keep_no_layer(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "var").mkdir(parents=True)
    (root / "var" / "pkgs.txt").write_text("a 1\n")
    with open_source(f"dir:{root}") as src:
        inv = build_inventory(src, catalogers=[PkgsTxt()])
    assert [(p.name, p.layer) for p in inv.packages] == [("a", None)]


class CachingPkgsTxt(PkgsTxt):
    """Caches parses by path in the per-scan scratch space, as the binary catalogers do."""

    def catalog(self, view: FileView, paths: Sequence[str], ctx: CatalogContext) -> CatalogResult:
        cache: dict[tuple[str, ...], CatalogResult] = ctx.shared.setdefault("pkgs-txt", {})
        key = tuple(paths)
        if key not in cache:
            cache[key] = super().catalog(view, paths, ctx)
        return cache[key]


def test_lower_layers_do_not_see_the_top_layers_cache(tmp_path: Path) -> None:
    img = build_image(tmp_path / "img", LAYERS)
    with open_source(f"oci-dir:{img.layout}") as src:
        inv = build_inventory(src, catalogers=[CachingPkgsTxt()])
    assert {(p.name, p.version): p.layer for p in inv.packages}[("b", "2")] == img.diff_ids[2]
