"""npm Package building and path helpers shared by the lock-file and node_modules catalogers."""

from __future__ import annotations

from typing import Any

from vulnhound.inventory.model import NPM, Location, Package
from vulnhound.inventory.purl import make_purl

LOCK_NAMES = ("package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml")


def load_yaml(data: str | bytes) -> dict[str, Any]:
    """Parse a YAML lock file (yarn berry, pnpm) with the C loader when built; YAML errors and a top level that is
    not a mapping become ValueError."""
    import yaml  # deferred: most scans meet no YAML lock file, and PyYAML is slow to import

    try:
        doc = yaml.load(data, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from None
    if not isinstance(doc, dict):
        raise ValueError("top level is not a mapping")
    return doc


def npm_package(name: str, version: str, path: str, found_by: str, manager: str, *, dev: bool = False,
                licenses: tuple[str, ...] = (), metadata: dict[str, Any] | None = None) -> Package:
    """``pkg:npm/%40scope/name@version`` — the scope is the purl namespace."""
    scope, _, bare = name.rpartition("/") if name.startswith("@") else ("", "", name)
    return Package(name=name, version=version, type=NPM, purl=make_purl(NPM, bare, version, scope or None),
                   found_by=found_by, locations=[Location(path)], package_manager=manager, dev=dev,
                   licenses=licenses, metadata=dict(metadata or {}))


def in_node_modules(path: str) -> bool:
    """Lock files inside installed packages are the publishers' and npm ignores them; so do we."""
    return path.startswith("node_modules/") or "/node_modules/" in path


def split_spec(spec: str) -> tuple[str, str]:
    """("@scope/name", "range") from "@scope/name@range"; the scope's own "@" is not the separator."""
    at = spec.find("@", 1)
    return (spec, "") if at < 0 else (spec[:at], spec[at + 1 :])


def looks_like_version(version: str) -> bool:
    """A registry version, not a URL, git ref or path that some lock entries carry instead."""
    return bool(version) and version[0].isdigit() and not any(c in version for c in ":/ ")
