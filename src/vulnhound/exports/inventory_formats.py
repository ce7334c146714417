"""Render an inventory in the formats ``vulnhound sbom`` offers (placeholder: native JSON only)."""

from __future__ import annotations

import dataclasses
import json

from vulnhound.inventory.model import Inventory


def render(inv: Inventory, fmt: str) -> str:
    if fmt in ("json", "table"):
        return json.dumps(dataclasses.asdict(inv), indent=2, default=str) + "\n"
    raise ValueError(f"unknown format {fmt!r}: use table, json, cyclonedx or spdx-json")
