"""Read an SPDX 2.x JSON SBOM (any producer) into packages, the OS and issues."""

from __future__ import annotations

from typing import Any

from vulnhound.inventory.model import CatalogIssue, OSInfo, Package
from vulnhound.sources.sbom_fields import BadComponent, RawComponent, distro_id, guess_os, nonempty_str, to_package

FOUND_BY = "sbom-spdx"
_NO_VALUE = frozenset({"NOASSERTION", "NONE"})


def read_spdx(doc: dict[str, Any], path: str) -> tuple[list[Package], OSInfo | None, list[CatalogIssue]]:
    packages: list[Package] = []
    issues: list[CatalogIssue] = []
    os_: OSInfo | None = None
    notes = _annotations(doc)
    items = doc.get("packages")
    for index, pkg in enumerate(items if isinstance(items, list) else ()):
        if not isinstance(pkg, dict):
            issues.append(CatalogIssue(FOUND_BY, path, "package is not an object", index))
            continue
        purpose = str(pkg.get("primaryPackagePurpose", "")).replace("_", "-")
        if purpose == "OPERATING-SYSTEM":
            if os_ is None and isinstance(pkg.get("name"), str):
                os_ = OSInfo(id=distro_id(pkg["name"]), version_id=nonempty_str(pkg.get("versionInfo")),
                             pretty_name=nonempty_str(pkg.get("description")))
            continue
        purl = _purl(pkg.get("externalRefs"))
        if purl is None and purpose in ("SOURCE", "FILE", "CONTAINER", "ARCHIVE", "DEVICE", "FIRMWARE", ""):
            continue  # the described root (a directory, an image) rather than an installed package
        spdx_id = str(pkg.get("SPDXID", index))
        props = notes.get(spdx_id, []) + _props(pkg.get("annotations"))
        raw = RawComponent(name=nonempty_str(pkg.get("name")) or "", version=nonempty_str(pkg.get("versionInfo")),
                           purl=purl, props=props, licenses=_licenses(pkg),
                           source_info=nonempty_str(pkg.get("sourceInfo")))
        try:
            packages.append(to_package(raw, FOUND_BY))
        except BadComponent as exc:
            issues.append(CatalogIssue(FOUND_BY, path, f"package {spdx_id}: {exc}", index))
    return packages, os_ or guess_os(packages), issues


def describe(doc: dict[str, Any]) -> dict[str, Any]:
    info = doc.get("creationInfo")
    creators = info.get("creators") if isinstance(info, dict) else None
    if not isinstance(creators, list):
        creators = []
    tools = [c.removeprefix("Tool: ") for c in creators if isinstance(c, str) and c.startswith("Tool: ")]
    return {"format": "spdx", "specVersion": doc.get("spdxVersion"), "tools": tools, "subject": doc.get("name")}


def _purl(refs: Any) -> str | None:
    for ref in refs if isinstance(refs, list) else ():
        if isinstance(ref, dict) and ref.get("referenceType") == "purl":
            locator = ref.get("referenceLocator")
            if isinstance(locator, str):
                return locator
    return None


def _annotations(doc: dict[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Document-level annotations keyed by the element they annotate (spdx-tools writes them there)."""
    out: dict[str, list[tuple[str, str]]] = {}
    for a in doc.get("annotations") or ():
        if isinstance(a, dict) and isinstance(a.get("spdxElementId"), str):
            out.setdefault(a["spdxElementId"], []).extend(_props([a]))
    return out


def _props(annotations: Any) -> list[tuple[str, str]]:
    """``KEY: value`` annotation comments as properties; Trivy's bare keys get Trivy's CycloneDX prefix."""
    out: list[tuple[str, str]] = []
    for a in annotations if isinstance(annotations, list) else ():
        comment = a.get("comment") if isinstance(a, dict) else None
        if not isinstance(comment, str) or ": " not in comment:
            continue
        key, _, value = comment.partition(": ")
        if ":" not in key and str(a.get("annotator", "")).startswith("Tool: trivy"):
            key = f"aquasecurity:trivy:{key}"
        out.append((key, value))
    return out


def _licenses(pkg: dict[str, Any]) -> tuple[str, ...]:
    for key in ("licenseDeclared", "licenseConcluded"):
        value = pkg.get(key)
        if isinstance(value, str) and value and value not in _NO_VALUE:
            return (value,)
    comment = pkg.get("licenseComments")
    if isinstance(comment, str) and comment:
        return tuple(x.strip() for x in comment.split(";") if x.strip())
    return ()
