"""Render an inventory in one of the formats ``vulnhound sbom`` offers: table, json, cyclonedx, spdx-json."""

from __future__ import annotations

from vulnhound.inventory.model import Inventory

FORMATS = ("table", "json", "cyclonedx", "spdx-json")


class UnknownFormat(ValueError):
    """A --format value that is not one of FORMATS."""


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise UnknownFormat(f"unknown format {fmt!r}: use {', '.join(FORMATS)}")
    return fmt


def render(inv: Inventory, fmt: str, *, include_files: bool = False, color: bool = False, width: int = 160) -> str:
    """The whole document as text; writers import lazily so ``--format json`` never loads spdx-tools."""
    check_format(fmt)
    if fmt == "json":
        from vulnhound.exports.inventory_json import render_json

        return render_json(inv, include_files)
    if fmt == "cyclonedx":
        from vulnhound.exports.cyclonedx_out import render_cyclonedx

        return render_cyclonedx(inv)
    if fmt == "spdx-json":
        from vulnhound.exports.spdx_out import render_spdx

        return render_spdx(inv)
    from vulnhound.exports.table import render_table

    return render_table(inv, width=width, color=color)
