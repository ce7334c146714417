"""The native inventory JSON format (``--format json``): camelCase wire dicts to and from the domain model.

The contract is ``schemas/inventory.schema.json`` and ``docs/inventory-json.md``; bump ``SCHEMA_VERSION`` on any
incompatible change.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from typing import Any

from vulnhound import __version__
from vulnhound.inventory.model import CatalogIssue, Inventory, LayerInfo, Location, OSInfo, Package, SourceInfo

SCHEMA_VERSION = 1


def sort_key(pkg: Package) -> tuple[str, str, str, str, str]:
    """Output order: stable across runs whatever order the catalogers found things in."""
    return (pkg.type, pkg.name, pkg.version, pkg.arch or "", pkg.path or "")


def to_wire(inv: Inventory, include_files: bool = False) -> dict[str, Any]:
    packages = sorted(inv.packages, key=sort_key)
    stats: dict[str, Any] = {
        "packages": len(packages),
        "issues": len(inv.issues),
        "packagesByType": dict(sorted(Counter(p.type for p in packages).items())),
    }
    stats.update(_json_safe(inv.stats))
    return {
        "schemaVersion": SCHEMA_VERSION,
        "tool": {"name": "vulnhound", "version": __version__},
        "source": source_to_wire(inv.source),
        "os": os_to_wire(inv.os) if inv.os else None,
        "packages": [package_to_wire(p, include_files) for p in packages],
        "issues": [issue_to_wire(i) for i in inv.issues],
        "stats": stats,
    }


def render_json(inv: Inventory, include_files: bool = False) -> str:
    return json.dumps(to_wire(inv, include_files), indent=2, ensure_ascii=False) + "\n"


def source_to_wire(src: SourceInfo) -> dict[str, Any]:
    return {
        "kind": src.kind,
        "target": src.target,
        "digest": src.digest,
        "platform": src.platform,
        "repoTags": list(src.repo_tags),
        "layers": [
            {"diffId": x.diff_id, "digest": x.digest, "mediaType": x.media_type, "size": x.size,
             "createdBy": x.created_by}
            for x in src.layers
        ],
        "metadata": _json_safe(src.metadata),
    }


def os_to_wire(os_: OSInfo) -> dict[str, Any]:
    return {
        "id": os_.id,
        "versionId": os_.version_id,
        "versionCodename": os_.version_codename,
        "name": os_.name,
        "prettyName": os_.pretty_name,
        "idLike": list(os_.id_like),
        "cpeName": os_.cpe_name,
        "supported": os_.supported,
        "sourceFile": os_.source_file,
    }


def package_to_wire(p: Package, include_files: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": p.id,
        "name": p.name,
        "version": p.version,
        "type": p.type,
        "purl": p.purl,
        "arch": p.arch,
        "epoch": p.epoch,
        "release": p.release,
        "sourceName": p.source_name,
        "sourceVersion": p.source_version,
        "packageManager": p.package_manager,
        "foundBy": p.found_by,
        "locations": [{"path": loc.path, "layer": loc.layer} for loc in p.locations],
        "licenses": list(p.licenses),
        "dev": p.dev,
        "osOwnedBy": p.os_owned_by,
        "maintainer": p.maintainer,
        "vendor": p.vendor,
        "metadata": _json_safe(p.metadata),
    }
    if include_files:
        out["files"] = list(p.files)
    return out


def issue_to_wire(i: CatalogIssue) -> dict[str, Any]:
    return {"cataloger": i.cataloger, "path": i.path, "message": i.message, "offset": i.offset,
            "severity": i.severity}


def from_wire(doc: dict[str, Any]) -> Inventory:
    """Read a native inventory document back (already schema-valid: see ``validate``)."""
    s = doc["source"]
    source = SourceInfo(
        kind=s["kind"], target=s["target"], digest=s.get("digest"), platform=s.get("platform"),
        repo_tags=tuple(s.get("repoTags", ())),
        layers=[LayerInfo(x["diffId"], x.get("digest"), x.get("mediaType"), x.get("size"), x.get("createdBy"))
                for x in s.get("layers", ())],
        metadata=dict(s.get("metadata") or {}),
    )
    o = doc.get("os")
    os_ = None
    if o:
        os_ = OSInfo(id=o["id"], version_id=o.get("versionId"), version_codename=o.get("versionCodename"),
                     name=o.get("name"), pretty_name=o.get("prettyName"), id_like=tuple(o.get("idLike", ())),
                     cpe_name=o.get("cpeName"), supported=o.get("supported", True), source_file=o.get("sourceFile"))
    packages = [
        Package(
            name=p["name"], version=p["version"], type=p["type"], purl=p["purl"], found_by=p["foundBy"],
            locations=[Location(loc["path"], loc.get("layer")) for loc in p.get("locations", ())],
            arch=p.get("arch"), epoch=p.get("epoch"), release=p.get("release"), source_name=p.get("sourceName"),
            source_version=p.get("sourceVersion"), package_manager=p.get("packageManager"),
            maintainer=p.get("maintainer"), vendor=p.get("vendor"), licenses=tuple(p.get("licenses", ())),
            dev=p.get("dev", False), os_owned_by=p.get("osOwnedBy"), files=tuple(p.get("files", ())),
            metadata=dict(p.get("metadata") or {}),
        )
        for p in doc.get("packages", ())
    ]
    issues = [CatalogIssue(i["cataloger"], i["path"], i["message"], i.get("offset"), i.get("severity", "error"))
              for i in doc.get("issues", ())]
    computed = {"packages", "issues", "packagesByType"}
    stats = {k: v for k, v in (doc.get("stats") or {}).items() if k not in computed}
    return Inventory(source=source, os=os_, packages=packages, issues=issues, stats=stats)


@cache
def schema() -> dict[str, Any]:
    from importlib import resources  # only validation needs it; with pathlib and tempfile ~8 ms of sbom start-up

    text = resources.files("vulnhound.exports").joinpath("schemas/inventory.schema.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def validate(doc: Any) -> list[str]:
    """Schema violations of a native inventory document, as "path: message" strings (empty when valid)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema())
    return [f"/{'/'.join(str(x) for x in e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


def _json_safe(value: Any) -> Any:
    # Catalogers may leave tuples, sets or bytes in metadata; the wire only has JSON types.
    return json.loads(json.dumps(value, default=_fallback))


def _fallback(o: object) -> Any:
    if isinstance(o, set | frozenset | tuple):
        return sorted(o, key=str)
    if isinstance(o, bytes):
        return o.decode("utf-8", errors="replace")
    return str(o)
