"""CycloneDX 1.6 JSON output (``--format cyclonedx``) built with cyclonedx-python-lib.

vulnhound fields that CycloneDX has no slot for travel as ``vulnhound:`` properties; ``sources.sbom`` reads them
back, so our own CycloneDX round-trips to the same inventory.
"""

from __future__ import annotations

from collections.abc import Iterator

from cyclonedx.model import Property
from cyclonedx.model.bom import Bom, BomMetaData
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.model.license import DisjunctiveLicense
from cyclonedx.model.tool import ToolRepository
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

from vulnhound import __version__
from vulnhound.exports.inventory_json import sort_key
from vulnhound.inventory.model import Inventory, OSInfo, Package, SourceInfo

NS = "vulnhound:"
IMAGE_KINDS = frozenset({"oci-dir", "oci-archive", "docker-archive", "registry"})


def render_cyclonedx(inv: Inventory) -> str:
    return str(JsonV1Dot6(build_bom(inv)).output_as_string(indent=2)) + "\n"


def build_bom(inv: Inventory) -> Bom:
    root = _source_component(inv.source)
    tools = ToolRepository(components=[Component(type=ComponentType.APPLICATION, name="vulnhound",
                                                 version=__version__)])
    bom = Bom(metadata=BomMetaData(component=root, tools=tools))
    deps: list[Component] = []
    if inv.os is not None:
        os_comp = _os_component(inv.os)
        bom.components.add(os_comp)
        deps.append(os_comp)
    seen: set[str] = set()
    for pkg in sorted(inv.packages, key=sort_key):
        comp = package_component(pkg, _unique_ref(pkg.id, seen))
        bom.components.add(comp)
        deps.append(comp)
    # A flat graph (the scanned thing contains everything) keeps every component reachable from the root.
    bom.register_dependency(root, deps)
    return bom


def package_component(pkg: Package, bom_ref: str) -> Component:
    purl: PackageURL | None
    try:
        purl = PackageURL.from_string(pkg.purl)
    except ValueError:
        purl = None  # a malformed purl from a cataloger still exports, as a property
    return Component(
        type=ComponentType.LIBRARY,
        name=pkg.name,
        version=pkg.version,
        purl=purl,
        bom_ref=bom_ref,
        licenses=[DisjunctiveLicense(name=lic) for lic in pkg.licenses],
        properties=[Property(name=NS + k, value=v) for k, v in package_properties(pkg, purl is None)],
    )


def package_properties(pkg: Package, raw_purl: bool = False) -> Iterator[tuple[str, str]]:
    """vulnhound's per-package fields as (name, value) pairs; the SPDX writer uses them too."""
    yield "type", pkg.type
    yield "foundBy", pkg.found_by
    if raw_purl:
        yield "purl", pkg.purl
    for key, value in (
        ("arch", pkg.arch),
        ("epoch", None if pkg.epoch is None else str(pkg.epoch)),
        ("release", pkg.release),
        ("sourceName", pkg.source_name),
        ("sourceVersion", pkg.source_version),
        ("packageManager", pkg.package_manager),
        ("osOwnedBy", pkg.os_owned_by),
        ("maintainer", pkg.maintainer),
        ("vendor", pkg.vendor),
    ):
        if value is not None:
            yield key, value
    if pkg.dev:
        yield "dev", "true"
    for i, loc in enumerate(pkg.locations):
        yield f"location:{i}:path", loc.path
        if loc.layer:
            yield f"location:{i}:layer", loc.layer


def _os_component(os_: OSInfo) -> Component:
    props = [("os:id", os_.id)]
    for key, value in (("os:versionCodename", os_.version_codename), ("os:name", os_.name),
                       ("os:prettyName", os_.pretty_name), ("os:cpeName", os_.cpe_name),
                       ("os:sourceFile", os_.source_file)):
        if value:
            props.append((key, value))
    props += [("os:idLike", x) for x in os_.id_like]
    if not os_.supported:
        props.append(("os:supported", "false"))
    return Component(type=ComponentType.OPERATING_SYSTEM, name=os_.id, version=os_.version_id,
                     bom_ref=f"os:{os_.id}", properties=[Property(name=NS + k, value=v) for k, v in props])


def _source_component(src: SourceInfo) -> Component:
    props = [("source:kind", src.kind)]
    if src.digest:
        props.append(("source:digest", src.digest))
    if src.platform:
        props.append(("source:platform", src.platform))
    props += [("source:repoTag", t) for t in src.repo_tags]
    props += [(f"source:layer:{i}:diffId", layer.diff_id) for i, layer in enumerate(src.layers)]
    kind = ComponentType.CONTAINER if src.kind in IMAGE_KINDS else ComponentType.FILE
    return Component(type=kind, name=src.target or src.kind, version=src.digest, bom_ref="source",
                     properties=[Property(name=NS + k, value=v) for k, v in props])


def _unique_ref(ref: str, seen: set[str]) -> str:
    # Package.id collides only for true duplicates (same name, version, arch and path); bom-refs must not.
    out, n = ref, 1
    while out in seen:
        n += 1
        out = f"{ref}-{n}"
    seen.add(out)
    return out
