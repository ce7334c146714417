"""Build an inventory: open a source's view, identify the OS, run every cataloger over the files it wants."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from vulnhound.catalogers import registry
from vulnhound.catalogers.interface import CatalogContext, Cataloger, CatalogResult
from vulnhound.catalogers.os_release import identify_os, wants_os_file
from vulnhound.inventory.dispatch import Dispatcher
from vulnhound.inventory.model import CatalogIssue, Inventory, Location
from vulnhound.sources.interface import FileView, Source


def build_inventory(
    source: Source,
    catalogers: Sequence[Cataloger] | None = None,
    include_files: bool = True,
) -> Inventory:
    """Scan ``source`` and return its inventory. Never raises for bad content inside the source."""
    started = time.perf_counter()
    direct = getattr(source, "inventory", None)
    if callable(direct):  # SBOM sources hold an inventory already: nothing to catalog
        inv: Inventory = direct()
        inv.stats.update(total_seconds=round(time.perf_counter() - started, 4))
        return inv
    cats = list(catalogers) if catalogers is not None else registry.load()
    dispatch = Dispatcher(cats)

    def wants(path: str) -> bool:
        return wants_os_file(path) or dispatch.wanted(path)

    view = source.open_view(wants)
    opened = time.perf_counter()
    inv = catalog_view(view, cats, CatalogContext(source_kind=source.kind, include_files=include_files))
    inv.source = source.info()
    inv.stats.update(open_seconds=round(opened - started, 4), total_seconds=round(time.perf_counter() - started, 4))
    return inv


def catalog_view(view: FileView, cats: Sequence[Cataloger], ctx: CatalogContext) -> Inventory:
    """Run catalogers over an already opened view (sources that are not images call this directly)."""
    from vulnhound.inventory.model import SourceInfo

    ctx.os = identify_os(view)
    listed = time.perf_counter()
    buckets = Dispatcher(cats).buckets(_paths(view))
    listed = time.perf_counter() - listed

    result = CatalogResult()
    per_cataloger: dict[str, int] = {}
    seconds: dict[str, float] = {}
    for c in cats:
        paths = sorted(buckets[c.name])
        if not paths:
            continue
        started = time.perf_counter()
        try:
            r = c.catalog(view, paths, ctx)
        except Exception as exc:  # a cataloger bug must not lose the other catalogers' results
            r = CatalogResult(issues=[CatalogIssue(c.name, paths[0], f"cataloger failed: {exc!r}")])
        _fill_layers(view, r)
        if view.layer_history(paths[0]) or any(view.layer_history(p) for p in paths[1:2]):
            from vulnhound.inventory.layers import attribute_layers

            attribute_layers(view, c, paths, r, ctx)
        per_cataloger[c.name] = len(r.packages)
        seconds[c.name] = round(time.perf_counter() - started, 4)
        result.extend(r)

    _mark_os_owned(result)
    inv = Inventory(source=SourceInfo(kind=ctx.source_kind, target=""), os=ctx.os,
                    packages=result.packages, issues=result.issues)
    inv.stats["packages_by_cataloger"] = per_cataloger
    inv.stats["seconds_by_cataloger"] = seconds
    inv.stats["list_seconds"] = round(listed, 4)  # walking the view and routing paths to catalogers
    return inv


def _paths(view: FileView) -> Iterator[str]:
    # Directory views can list paths without a stat() per file; sizes are looked up only for wanted files.
    fast = getattr(view, "iter_paths", None)
    if callable(fast):
        paths: Iterator[str] = fast()
        return paths
    return (m.path for m in view.iter_files())


def _fill_layers(view: FileView, r: CatalogResult) -> None:
    """Give every location the layer that last wrote its file (refined later by layer attribution)."""
    for pkg in r.packages:
        pkg.locations = [loc if loc.layer else Location(loc.path, view.layer_of(loc.path)) for loc in pkg.locations]


def _mark_os_owned(result: CatalogResult) -> None:
    """Language packages whose files an OS package installed are marked, so the matcher uses distro data."""
    if not result.owned_files:
        return
    for pkg in result.packages:
        if pkg.type in ("deb", "rpm", "apk") or pkg.os_owned_by:
            continue
        for loc in pkg.locations:
            owner = result.owned_files.get(loc.path)
            if owner is None:
                # Installed Python packages are located by their METADATA; dpkg lists the dist-info dir too.
                parent = loc.path.rsplit("/", 1)[0]
                owner = result.owned_files.get(parent)
            if owner:
                pkg.os_owned_by = owner
                break
