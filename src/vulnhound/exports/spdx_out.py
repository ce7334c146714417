"""SPDX 2.3 JSON output (``--format spdx-json``) built with spdx-tools.

One package per inventory package (PURL external ref), the OS as an OPERATING-SYSTEM package, the scanned thing as
the described root CONTAINing everything; vulnhound fields ride along as ``vulnhound:KEY: value`` annotations.
"""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime
from typing import Any

from spdx_tools.common.spdx_licensing import spdx_licensing
from spdx_tools.spdx.model import (
    Actor,
    ActorType,
    Annotation,
    AnnotationType,
    CreationInfo,
    Document,
    ExternalPackageRef,
    ExternalPackageRefCategory,
    PackagePurpose,
    Relationship,
    RelationshipType,
    SpdxNoAssertion,
)
from spdx_tools.spdx.model import Package as SpdxPackage
from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

from vulnhound import __version__
from vulnhound.exports.cyclonedx_out import IMAGE_KINDS, package_properties
from vulnhound.exports.inventory_json import sort_key
from vulnhound.inventory.model import Inventory, Package

TOOL = Actor(ActorType.TOOL, f"vulnhound-{__version__}")
ROOT_ID = "SPDXRef-Source"
OS_ID = "SPDXRef-OperatingSystem"


def render_spdx(inv: Inventory) -> str:
    out = io.StringIO()
    # Validation belongs in tests: a production run must not fail late over one odd license string.
    write_document_to_stream(build_document(inv), out, validate=False)
    return out.getvalue() + "\n"


def build_document(inv: Inventory, created: datetime | None = None) -> Document:
    created = (created or datetime.now(UTC)).replace(microsecond=0)
    name = inv.source.target or inv.source.kind
    info = CreationInfo(
        spdx_version="SPDX-2.3",
        spdx_id="SPDXRef-DOCUMENT",
        name=name,
        document_namespace=f"https://vulnhound.dev/spdx/{_slug(name)}-{uuid.uuid4()}",
        creators=[TOOL],
        created=created,
    )
    purpose = PackagePurpose.CONTAINER if inv.source.kind in IMAGE_KINDS else PackagePurpose.SOURCE
    packages = [SpdxPackage(ROOT_ID, name, SpdxNoAssertion(), version=inv.source.digest, files_analyzed=False,
                            primary_package_purpose=purpose, comment=f"vulnhound source kind: {inv.source.kind}")]
    relationships = [Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, ROOT_ID)]
    annotations: list[Annotation] = []
    if inv.os is not None:
        packages.append(SpdxPackage(OS_ID, inv.os.id, SpdxNoAssertion(), version=inv.os.version_id,
                                    files_analyzed=False, primary_package_purpose=PackagePurpose.OPERATING_SYSTEM,
                                    description=inv.os.pretty_name))
        relationships.append(Relationship(ROOT_ID, RelationshipType.CONTAINS, OS_ID))
    seen: set[str] = set()
    for pkg in sorted(inv.packages, key=sort_key):
        spdx_id = _unique_id(f"SPDXRef-Package-{pkg.id}", seen)
        packages.append(_package(pkg, spdx_id))
        relationships.append(Relationship(ROOT_ID, RelationshipType.CONTAINS, spdx_id))
        annotations += [Annotation(spdx_id, AnnotationType.OTHER, TOOL, created, f"vulnhound:{k}: {v}")
                        for k, v in package_properties(pkg)]
    return Document(info, packages=packages, relationships=relationships, annotations=annotations)


def _package(pkg: Package, spdx_id: str) -> SpdxPackage:
    declared, comment = _licenses(pkg.licenses)
    source_info = None
    if pkg.source_name:
        # Trivy's wording, which other SPDX readers already understand.
        source_info = f"built package from: {pkg.source_name} {pkg.source_version or pkg.version}".strip()
    return SpdxPackage(
        spdx_id,
        pkg.name,
        SpdxNoAssertion(),
        version=pkg.version,
        files_analyzed=False,
        source_info=source_info,
        license_declared=declared,
        license_concluded=SpdxNoAssertion(),
        license_comment=comment,
        external_references=[ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", pkg.purl)],
        primary_package_purpose=PackagePurpose.LIBRARY,
    )


def _licenses(licenses: tuple[str, ...]) -> tuple[Any, str | None]:
    """An SPDX expression when every name is a known SPDX id; otherwise NOASSERTION and the names as a comment."""
    if not licenses:
        return SpdxNoAssertion(), None
    text = " AND ".join(f"({x})" if " " in x else x for x in licenses)
    try:
        expr = spdx_licensing.parse(text, validate=True, strict=True)
    except Exception:  # license_expression raises several unrelated types for unparseable names
        return SpdxNoAssertion(), "; ".join(licenses)
    if expr is None:
        return SpdxNoAssertion(), "; ".join(licenses)
    return expr, None


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-." else "-" for c in name).strip("-")[:80] or "inventory"


def _unique_id(spdx_id: str, seen: set[str]) -> str:
    out, n = spdx_id, 1
    while out in seen:
        n += 1
        out = f"{spdx_id}-{n}"
    seen.add(out)
    return out
