"""Layer attribution: the image layer that introduced each package, not merely the last one to touch its file.

A package database is rewritten by every layer that installs anything, so the last writer says little; the
package's layer is the earliest one from which it stays present, unchanged, up to the top of the image.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from vulnhound.catalogers.interface import CatalogContext, Cataloger, CatalogResult
from vulnhound.inventory.model import Location, Package
from vulnhound.sources.interface import FileView

Key = tuple[str, str, str | None, str | None]


def _key(pkg: Package) -> Key:
    return (pkg.name, pkg.version, pkg.arch, pkg.path)


def attribute_layers(
    view: FileView, cataloger: Cataloger, paths: Sequence[str], result: CatalogResult, ctx: CatalogContext
) -> None:
    """Set each package's location layer to the earliest layer from which it is continuously present.

    Re-runs ``cataloger`` on the view as it stood after each layer that wrote one of ``paths`` (only those
    layers can change what the cataloger sees) and walks back from the top while the package is still there.
    """
    if not result.packages:
        return
    order = {d: i for i, d in enumerate(view.layers())}
    writers: set[str] = set()
    for p in paths:
        writers.update(view.layer_history(p))
    layers = sorted((d for d in writers if d in order), key=order.__getitem__)
    if len(layers) < 2:
        return
    present: dict[str, set[Key]] = {layers[-1]: {_key(p) for p in result.packages}}
    for diff_id in layers[:-1]:
        # A fresh scratch space per layer: what catalogers cache by path belongs to the top layer's files.
        quick = dataclasses.replace(ctx, include_files=False, shared={})
        present[diff_id] = _catalog_at(view, diff_id, cataloger, paths, quick)
    for pkg in result.packages:
        if not pkg.locations:
            continue
        key = _key(pkg)
        earliest: str | None = None
        for diff_id in reversed(layers):
            if key not in present[diff_id]:
                break
            earliest = diff_id
        if earliest is not None:
            pkg.locations[0] = Location(pkg.locations[0].path, earliest)


def _catalog_at(view: FileView, diff_id: str, cataloger: Cataloger, paths: Sequence[str],
                ctx: CatalogContext) -> set[Key]:
    try:
        lower = view.at_layer(diff_id)
        here = [p for p in paths if lower.meta(p) is not None]
        if not here:
            return set()
        return {_key(p) for p in cataloger.catalog(lower, here, ctx).packages}
    except Exception:  # a failure at a lower layer only stops the walk back
        return set()
