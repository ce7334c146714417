"""Layer attribution: which image layer introduced each package (placeholder until the image sources land)."""

from __future__ import annotations

from collections.abc import Sequence

from vulnhound.catalogers.interface import CatalogContext, Cataloger, CatalogResult
from vulnhound.sources.interface import FileView


def attribute_layers(
    view: FileView, cataloger: Cataloger, paths: Sequence[str], result: CatalogResult, ctx: CatalogContext
) -> None:
    """Set each package's location layer to the earliest layer from which it is continuously present."""
    return None
