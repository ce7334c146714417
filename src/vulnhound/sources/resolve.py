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
    max_image_bytes: int = 64 << 30  # decompression-bomb bound: uncompressed bytes over all layers
    verify_digests: bool = True  # check every blob's sha256 while streaming it


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
    if kind in ("oci-dir", "oci-archive", "docker-archive", "registry"):
        return _image_source(kind, ref, opts)
    if kind == "sbom":
        from vulnhound.sources.sbom import SbomSource

        return SbomSource(ref)
    if kind in ("zip", "function"):
        from vulnhound.sources.zipsrc import ZipSource

        return ZipSource(ref, kind=kind, layers=opts.layers, runtime=opts.runtime)
    raise SourceError(f"{target}: source kind {kind!r} is not supported yet")


def _image_source(kind: str, ref: str, opts: SourceOptions) -> Source:
    from vulnhound.sources.blobstream import Limits

    limits = Limits(max_total_bytes=opts.max_image_bytes)
    if kind == "registry":
        from vulnhound.sources.registry import RegistrySource

        return RegistrySource(ref, opts.platform, insecure=opts.insecure, username=opts.username,
                              password=opts.password, limits=limits, verify=opts.verify_digests)
    from vulnhound.sources.oci import DockerArchiveSource, OCILayoutSource

    if kind == "docker-archive":
        return DockerArchiveSource(ref, limits=limits, verify=opts.verify_digests)
    return OCILayoutSource(ref, kind=kind, platform=opts.platform, limits=limits, verify=opts.verify_digests)


def detect_kind(ref: str) -> str:
    """Auto-detect the kind of an unprefixed target from what is on disk."""
    if ref in ("", "/"):
        return "host"
    if os.path.isdir(ref):
        return "oci-dir" if os.path.isfile(os.path.join(ref, "oci-layout")) else "dir"
    if os.path.isfile(ref):
        kind = _file_kind(ref)
        if kind:
            return kind
    elif _looks_like_image_ref(ref):
        return "registry"
    raise SourceError(f"{ref}: cannot tell what kind of source this is; prefix it (dir:, oci-dir:, ...)")


def _file_kind(path: str) -> str | None:
    """Sniff a file: a tar holding oci-layout or manifest.json, a zip, or a JSON SBOM."""
    import tarfile

    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith(b"PK\x03\x04"):
        return "zip"  # hook: the zip/function source handles these
    if path.endswith(".json") or head.lstrip()[:1] in (b"{", b"["):
        return "sbom"  # hook: the SBOM source handles these
    found = None
    try:
        with tarfile.open(path, mode="r:") as tf:
            for m in tf:
                name = m.name.removeprefix("./")
                if name == "oci-layout":
                    return "oci-archive"  # docker save ≥ 25 writes both; the OCI layout is the richer one
                if name == "manifest.json":
                    found = "docker-archive"
    except (tarfile.TarError, OSError):
        return found
    return found


def _looks_like_image_ref(ref: str) -> bool:
    """"host[:port]/repo[:tag|@sha256:...]" or "repo:tag" that is not a path on disk."""
    import re

    return bool(re.fullmatch(r"[a-z0-9]+([._:-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)*"
                             r"(:[\w][\w.-]{0,127})?(@sha256:[0-9a-f]{64})?", ref)) and ("/" in ref or ":" in ref)
