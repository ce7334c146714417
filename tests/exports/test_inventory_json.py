"""Native inventory JSON: schema-valid for every inventory, stable golden output, lossless read back."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from vulnhound.exports.inventory_json import SCHEMA_VERSION, from_wire, render_json, to_wire, validate
from vulnhound.inventory.model import Inventory

CASES = Path(__file__).parent / "cases"
REGEN = os.environ.get("VULNHOUND_REGEN") == "1"


def golden(name: str, text: str) -> str:
    path = CASES / name
    if REGEN:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path.read_text(encoding="utf-8")


def without_tool(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "tool"}


def test_every_inventory_is_schema_valid(any_inventory: Inventory) -> None:
    doc = json.loads(render_json(any_inventory, include_files=True))
    assert validate(doc) == []
    assert doc["schemaVersion"] == SCHEMA_VERSION
    assert doc["stats"]["packages"] == len(any_inventory.packages)


def test_normal_matches_golden(normal_inventory: Inventory) -> None:
    doc = without_tool(to_wire(normal_inventory))
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    assert text == golden("normal/expected.json", text)


def test_hostile_matches_golden(hostile_inventory: Inventory) -> None:
    doc = without_tool(to_wire(hostile_inventory))
    text = json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
    assert text == golden("hostile/expected.json", text)
    # Sets and bytes in metadata become JSON types, deterministically.
    pkg = next(p for p in doc["packages"] if p["name"].startswith("na"))
    assert pkg["metadata"]["tags"] == ["a", "b"]


def test_empty_document(empty_inventory: Inventory) -> None:
    doc = to_wire(empty_inventory)
    assert doc["os"] is None and doc["packages"] == [] and doc["issues"] == []
    assert doc["stats"]["packagesByType"] == {}


def test_camel_case_keys_and_files_only_on_request(normal_inventory: Inventory) -> None:
    plain = to_wire(normal_inventory)
    pkg = next(p for p in plain["packages"] if p["name"] == "zlib1g")
    assert {"sourceName", "sourceVersion", "packageManager", "foundBy", "osOwnedBy"} <= pkg.keys()
    assert not any("_" in k for k in pkg)
    assert "files" not in pkg
    with_files = to_wire(normal_inventory, include_files=True)
    pkg = next(p for p in with_files["packages"] if p["name"] == "zlib1g")
    assert pkg["files"] == ["usr/lib/x86_64-linux-gnu/libz.so.1"]
    assert plain["source"]["layers"][0]["diffId"].startswith("sha256:")


def test_packages_sorted_whatever_the_input_order(normal_inventory: Inventory) -> None:
    first = to_wire(normal_inventory)["packages"]
    normal_inventory.packages.reverse()
    assert to_wire(normal_inventory)["packages"] == first


def test_read_back_is_lossless(normal_inventory: Inventory) -> None:
    doc = to_wire(normal_inventory, include_files=True)
    again = to_wire(from_wire(json.loads(json.dumps(doc))), include_files=True)
    assert without_tool(again) == without_tool(doc)


@pytest.mark.parametrize(
    ("mutate", "where"),
    [
        (lambda d: d.pop("packages"), "/"),
        (lambda d: d["packages"][0].update(locations=[{"layer": None}]), "/packages/0/locations/0"),
        (lambda d: d["packages"][0].update(packageManager="APT"), "/packages/0/packageManager"),
        (lambda d: d["source"].update(kind="floppy"), "/source/kind"),
        (lambda d: d.update(extra=1), "/"),
    ],
)
def test_schema_rejects_broken_documents(normal_inventory: Inventory, mutate: Any, where: str) -> None:
    doc = to_wire(normal_inventory)
    mutate(doc)
    errors = validate(doc)
    assert errors and any(e.startswith(where) for e in errors), errors


def test_huge_inventory_is_valid(huge_inventory: Inventory) -> None:
    doc = to_wire(huge_inventory)
    assert len(doc["packages"]) == 2000
    assert validate(doc) == []
