"""SPDX 2.3 JSON output: valid for spdx-tools' parser and validator, with PURLs and DESCRIBES/CONTAINS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from spdx_tools.spdx.parser.json.json_parser import parse_from_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

from vulnhound.exports.spdx_out import render_spdx
from vulnhound.inventory.model import Inventory
from vulnhound.sources.sbom import load_sbom


def write(tmp_path: Path, inv: Inventory) -> tuple[Path, dict[str, Any]]:
    path = tmp_path / "doc.spdx.json"
    path.write_text(render_spdx(inv), encoding="utf-8")
    doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return path, doc


def test_valid_for_every_inventory(tmp_path: Path, any_inventory: Inventory) -> None:
    path, doc = write(tmp_path, any_inventory)
    messages = validate_full_spdx_document(parse_from_file(str(path)))
    assert messages == [], [m.validation_message for m in messages]
    assert doc["spdxVersion"] == "SPDX-2.3"
    assert doc["packages"][0]["SPDXID"] == "SPDXRef-Source"


def test_packages_purls_and_relationships(tmp_path: Path, normal_inventory: Inventory) -> None:
    _, doc = write(tmp_path, normal_inventory)
    by_id = {p["SPDXID"]: p for p in doc["packages"]}
    rels = {(r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"]) for r in doc["relationships"]}
    assert ("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Source") in rels
    contained = {b for a, kind, b in rels if a == "SPDXRef-Source" and kind == "CONTAINS"}
    assert contained == set(by_id) - {"SPDXRef-Source"}
    purls = {ref["referenceLocator"] for p in doc["packages"] for ref in p.get("externalRefs", [])
             if ref["referenceType"] == "purl"}
    assert purls == {p.purl for p in normal_inventory.packages}
    zlib = next(p for p in doc["packages"] if p["name"] == "zlib1g")
    assert zlib["sourceInfo"] == "built package from: zlib 1:1.2.13.dfsg-1"
    assert zlib["licenseDeclared"] == "Zlib"
    openssl = next(p for p in doc["packages"] if p["name"] == "openssl-libs")
    # "ASL 2.0" is no SPDX id: kept as a comment rather than an invalid expression.
    assert openssl["licenseDeclared"] == "NOASSERTION" and openssl["licenseComments"] == "ASL 2.0"


def test_read_back_keeps_packages_and_os(tmp_path: Path, normal_inventory: Inventory) -> None:
    path, _ = write(tmp_path, normal_inventory)
    back = load_sbom(str(path))

    def ident(inv: Inventory) -> set[tuple[Any, ...]]:
        return {(p.name, p.version, p.type, p.purl, p.arch, p.source_name, p.source_version, p.found_by,
                 tuple(p.locations), p.package_manager, p.dev, p.os_owned_by) for p in inv.packages}

    assert ident(back) == ident(normal_inventory)
    assert back.os is not None and (back.os.id, back.os.version_id) == ("debian", "12")
