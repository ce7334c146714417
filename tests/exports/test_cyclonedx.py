"""CycloneDX 1.6 output: valid against the 1.6 schema, vulnhound properties present, and our CycloneDX read back
gives the same inventory."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from vulnhound.exports.cyclonedx_out import render_cyclonedx
from vulnhound.exports.inventory_json import os_to_wire, package_to_wire, sort_key
from vulnhound.inventory.model import Inventory
from vulnhound.sources.sbom import load_sbom


def check(text: str) -> dict[str, Any]:
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, error
    doc: dict[str, Any] = json.loads(text)
    return doc


def comparable(inv: Inventory) -> tuple[Any, list[Any]]:
    # metadata and file lists are not exported; ids follow from the compared fields.
    # CycloneDX holds licenses as a set, so their order is not kept.
    pkgs = [{**{k: v for k, v in package_to_wire(p).items() if k != "metadata"}, "licenses": sorted(p.licenses)}
            for p in sorted(inv.packages, key=sort_key)]
    return (os_to_wire(inv.os) if inv.os else None), pkgs


def test_valid_for_every_inventory(any_inventory: Inventory) -> None:
    doc = check(render_cyclonedx(any_inventory))
    assert doc["specVersion"] == "1.6"
    assert doc["metadata"]["component"]["name"] == any_inventory.source.target
    libraries = [c for c in doc.get("components", []) if c["type"] == "library"]
    assert len(libraries) == len(any_inventory.packages)


def test_components_carry_purl_and_vulnhound_properties(normal_inventory: Inventory) -> None:
    doc = check(render_cyclonedx(normal_inventory))
    assert doc["metadata"]["component"]["type"] == "container"
    (os_comp,) = [c for c in doc["components"] if c["type"] == "operating-system"]
    assert (os_comp["name"], os_comp["version"]) == ("debian", "12")
    zlib = next(c for c in doc["components"] if c["name"] == "zlib1g")
    assert zlib["purl"] == "pkg:deb/debian/zlib1g@1:1.2.13.dfsg-1?arch=amd64&distro=debian-12"
    props = {p["name"]: p["value"] for p in zlib["properties"]}
    assert props["vulnhound:sourceName"] == "zlib"
    assert props["vulnhound:foundBy"] == "dpkg"
    assert props["vulnhound:location:0:path"] == "var/lib/dpkg/status"
    assert props["vulnhound:location:0:layer"] == "sha256:" + "1" * 64
    assert all(p["name"].startswith("vulnhound:") for c in doc["components"] for p in c.get("properties", []))
    refs = [c["bom-ref"] for c in doc["components"]]
    assert len(refs) == len(set(refs))


def test_round_trip_gives_the_same_inventory(tmp_path: Path, any_inventory: Inventory) -> None:
    path = tmp_path / "bom.json"
    path.write_text(render_cyclonedx(any_inventory), encoding="utf-8")
    back = load_sbom(str(path))
    assert comparable(back) == comparable(any_inventory)
    assert back.source.kind == "sbom"


def test_duplicates_get_distinct_refs(hostile_inventory: Inventory) -> None:
    doc = check(render_cyclonedx(hostile_inventory))
    dups = [c["bom-ref"] for c in doc["components"] if c["name"] == "dup"]
    assert len(dups) == 2 and dups[0] != dups[1]
    broken = next(c for c in doc["components"] if c["name"] == "broken")
    # Not a purl: kept out of the purl field, exported as a property.
    assert "purl" not in broken
    assert {"name": "vulnhound:purl", "value": "not a purl at all"} in broken["properties"]


def test_huge_inventory(huge_inventory: Inventory) -> None:
    doc = json.loads(render_cyclonedx(huge_inventory))
    assert len(doc["components"]) == 2001
