"""SBOM import as a source (``sbom:FILE``): CycloneDX or SPDX JSON, or vulnhound's own inventory JSON, read straight
into an ``Inventory`` (what Inspector's ScanSbom does). There is no filesystem: the builder calls ``inventory()``.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from vulnhound.inventory.model import CatalogIssue, Inventory, OSInfo, Package, SourceInfo
from vulnhound.sources.interface import BytesView, FileView, PathFilter, Source, SourceError

MAX_SBOM_SIZE = 1 << 30  # a 1 GiB JSON document is already far beyond any real SBOM


class SbomSource(Source):
    kind = "sbom"

    def __init__(self, path: str) -> None:
        self.path = path
        self._info = SourceInfo(kind=self.kind, target=path)
        self._inventory: Inventory | None = None

    def info(self) -> SourceInfo:
        return self._info

    def open_view(self, wants: PathFilter) -> FileView:
        # Generic code that insists on a view gets an empty one; the packages come from inventory().
        return BytesView({})

    def inventory(self) -> Inventory:
        if self._inventory is None:
            self._inventory = load_sbom(self.path)
            self._info = self._inventory.source
        return self._inventory


def load_sbom(path: str) -> Inventory:
    """Parse the SBOM at ``path``. Raises SourceError naming the file when it is not a usable SBOM at all;
    problems with single components become issues."""
    data = _read(path)
    if data.lstrip()[:1] == b"<":
        raise SourceError(f"{path}: XML SBOMs are not supported; use CycloneDX or SPDX 2.x JSON")
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(f"{path}: not a JSON SBOM ({exc}); vulnhound reads CycloneDX and SPDX 2.x JSON") from None
    if not isinstance(doc, dict):
        raise SourceError(f"{path}: not an SBOM: the JSON document is a {type(doc).__name__}, not an object")
    packages: list[Package]
    os_: OSInfo | None
    issues: list[CatalogIssue]
    if doc.get("bomFormat") == "CycloneDX":
        from vulnhound.sources import sbom_cyclonedx as reader

        _check_version(path, "CycloneDX", doc.get("specVersion"), ("1.2", "1.3", "1.4", "1.5", "1.6", "1.7"))
        _check_list(path, doc, "components")
        packages, os_, issues = reader.read_cyclonedx(doc, path)
        meta = reader.describe(doc)
    elif isinstance(doc.get("spdxVersion"), str):
        from vulnhound.sources import sbom_spdx as spdx_reader

        _check_version(path, "SPDX", doc.get("spdxVersion"), ("SPDX-2.2", "SPDX-2.3"))
        _check_list(path, doc, "packages")
        packages, os_, issues = spdx_reader.read_spdx(doc, path)
        meta = spdx_reader.describe(doc)
    elif "schemaVersion" in doc and "packages" in doc:
        return _native(path, doc, data)
    else:
        raise SourceError(f"{path}: neither CycloneDX (no bomFormat) nor SPDX (no spdxVersion) JSON")
    source = SourceInfo(kind="sbom", target=path, digest=_digest(data), metadata=meta)
    inv = Inventory(source=source, os=os_, packages=packages, issues=issues)
    inv.stats["packages_by_cataloger"] = _count(packages)
    return inv


def _native(path: str, doc: dict[str, Any], data: bytes) -> Inventory:
    from vulnhound.exports.inventory_json import from_wire, validate

    errors = validate(doc)
    if errors:
        raise SourceError(f"{path}: invalid vulnhound inventory JSON: {errors[0]}")
    inv = from_wire(doc)
    inv.source = SourceInfo(kind="sbom", target=path, digest=_digest(data),
                            metadata={"format": "vulnhound", "specVersion": doc["schemaVersion"],
                                      "subject": inv.source.target, "subjectKind": inv.source.kind})
    return inv


def _read(path: str) -> bytes:
    try:
        size = os.path.getsize(path)
        if size > MAX_SBOM_SIZE:
            raise SourceError(f"{path}: {size} bytes is larger than the {MAX_SBOM_SIZE}-byte SBOM limit")
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise SourceError(f"{path}: no such SBOM file") from None
    except IsADirectoryError:
        raise SourceError(f"{path}: is a directory; use dir:{path} to scan a directory") from None
    except OSError as exc:
        raise SourceError(f"{path}: cannot read SBOM: {exc.strerror or exc}") from None


def _check_version(path: str, fmt: str, version: Any, known: tuple[str, ...]) -> None:
    if version not in known:
        raise SourceError(f"{path}: {fmt} version {version!r} is not supported (supported: {', '.join(known)})")


def _check_list(path: str, doc: dict[str, Any], key: str) -> None:
    if key in doc and not isinstance(doc[key], list):
        raise SourceError(f"{path}: malformed SBOM: '{key}' is a {type(doc[key]).__name__}, not a list")


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _count(packages: list[Package]) -> dict[str, int]:
    out: dict[str, int] = {}
    for p in packages:
        out[p.found_by] = out.get(p.found_by, 0) + 1
    return out
