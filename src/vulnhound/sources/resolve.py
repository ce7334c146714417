"""Turn a target string ("dir:/x", "oci-dir:/y", "registry:host/repo:tag", a bare path, ...) into a Source."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from vulnhound.sources.directory import DirSource
from vulnhound.sources.interface import Source, SourceError


@dataclass(slots=True)
class SourceOptions:
    platform: str = "linux/amd64"
    insecure: bool = False  # plain HTTP / unverified TLS for registries
    username: str | None = None
    password: str | None = None
    layers: list[str] = field(default_factory=list)  # extra function-layer zips (--layer)
    runtime: str | None = None  # function runtime (--runtime python3.12)


PREFIXES = ("dir", "host", "oci-dir", "oci-archive", "docker-archive", "registry", "zip", "function", "sbom")


def split_target(target: str) -> tuple[str | None, str]:
    """("oci-dir", "/path") for "oci-dir:/path"; (None, target) when no known prefix is given."""
    head, sep, rest = target.partition(":")
    if sep and head in PREFIXES:
        return head, rest
    return None, target


def open_source(target: str, opts: SourceOptions | None = None) -> Source:
    opts = opts or SourceOptions()
    kind, ref = split_target(target)
    if kind is None:
        kind = detect_kind(ref)
    if kind == "host":
        return DirSource(ref or "/", kind="host")
    if kind == "dir":
        return DirSource(ref)
    raise SourceError(f"{target}: source kind {kind!r} is not supported yet")


def detect_kind(ref: str) -> str:
    """Auto-detect the kind of an unprefixed target from what is on disk."""
    if ref in ("", "/"):
        return "host"
    if os.path.isdir(ref):
        return "dir"
    raise SourceError(f"{ref}: cannot tell what kind of source this is; prefix it (dir:, oci-dir:, ...)")
