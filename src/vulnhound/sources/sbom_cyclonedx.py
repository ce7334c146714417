"""Read a CycloneDX JSON SBOM (1.2–1.7, any producer) into packages, the OS and issues."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from vulnhound.inventory.model import CatalogIssue, OSInfo, Package
from vulnhound.sources.sbom_fields import BadComponent, RawComponent, guess_os, nonempty_str, os_from_props, to_package

FOUND_BY = "sbom-cyclonedx"


def read_cyclonedx(doc: dict[str, Any], path: str) -> tuple[list[Package], OSInfo | None, list[CatalogIssue]]:
    packages: list[Package] = []
    issues: list[CatalogIssue] = []
    os_: OSInfo | None = None
    for index, comp in _walk(doc.get("components")):
        if not isinstance(comp, dict):
            issues.append(CatalogIssue(FOUND_BY, path, "component is not an object", index))
            continue
        kind = comp.get("type")
        props = _props(comp.get("properties"))
        if kind == "operating-system":
            if os_ is None and isinstance(comp.get("name"), str):
                os_ = os_from_props(comp["name"], nonempty_str(comp.get("version")), props)
            continue
        purl = nonempty_str(comp.get("purl"))
        if purl is None and kind in ("file", "application", "container", "device", "firmware", "data"):
            continue  # files and the like describe the target, not installed packages
        raw = RawComponent(name=_name(comp), version=nonempty_str(comp.get("version")), purl=purl, props=props,
                           licenses=_licenses(comp.get("licenses")))
        try:
            packages.append(to_package(raw, FOUND_BY))
        except BadComponent as exc:
            issues.append(CatalogIssue(FOUND_BY, path, f"component {comp.get('bom-ref', index)}: {exc}", index))
    return packages, os_ or guess_os(packages), issues


def describe(doc: dict[str, Any]) -> dict[str, Any]:
    """SBOM facts for ``SourceInfo.metadata``: format, spec version, producing tool, the subject's name."""
    meta = doc.get("metadata")
    if not isinstance(meta, dict):
        meta = {}
    tools = meta.get("tools")
    items = tools.get("components", []) if isinstance(tools, dict) else tools if isinstance(tools, list) else []
    names = [f"{t.get('name')} {t.get('version', '')}".strip() for t in items if isinstance(t, dict)]
    subject = meta.get("component")
    return {
        "format": "cyclonedx",
        "specVersion": doc.get("specVersion"),
        "tools": names,
        "subject": subject.get("name") if isinstance(subject, dict) else None,
    }


def _walk(components: Any, prefix: str = "") -> Iterator[tuple[int, Any]]:
    # Nested components (an application's bundled libraries) are packages too; index counts flatten order.
    if not isinstance(components, list):
        return
    counter = 0
    stack = list(reversed(components))
    while stack:
        comp = stack.pop()
        yield counter, comp
        counter += 1
        if isinstance(comp, dict) and isinstance(comp.get("components"), list):
            stack.extend(reversed(comp["components"]))


def _name(comp: dict[str, Any]) -> str:
    name = nonempty_str(comp.get("name")) or ""
    group = nonempty_str(comp.get("group"))
    # Without a purl, group+name is the best identity (Maven groupId, npm scope).
    if group and not comp.get("purl"):
        return f"{group}/{name}" if group.startswith("@") else f"{group}:{name}"
    return name


def _props(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, list):
        return []
    return [(p["name"], str(p.get("value", ""))) for p in value
            if isinstance(p, dict) and isinstance(p.get("name"), str)]


def _licenses(value: Any) -> tuple[str, ...]:
    out: list[str] = []
    for item in value if isinstance(value, list) else ():
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("expression"), str):
            out.append(item["expression"])
        elif isinstance(lic := item.get("license"), dict):
            text = lic.get("id") or lic.get("name")
            if isinstance(text, str):
                out.append(text)
    return tuple(out)
