"""What every image source shares: manifests, indexes and configs, platform choice, and streaming the layers.

Subclasses (OCI layout, archives, registry) only say how to read a blob; this module parses the documents,
checks digests, and squashes the layers into a ``LayeredView``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from abc import abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from vulnhound.inventory.model import LayerInfo, SourceInfo
from vulnhound.sources.blobstream import BlobStream, Limits, _Readable
from vulnhound.sources.content import ContentStore
from vulnhound.sources.interface import FileView, PathFilter, Source, SourceError
from vulnhound.sources.layered import ImageFS, LayeredView
from vulnhound.sources.mapped import Hasher, MappedBlob, MappedFiles, open_mapped
from vulnhound.sources.tarstream import TarReader

DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
MAX_DOCUMENT = 8 << 20  # manifests, indexes and configs are small; anything bigger is refused

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset({OCI_INDEX, DOCKER_LIST})
DOCKER_LAYER_TYPES = {"none": "application/vnd.docker.image.rootfs.diff.tar",
                      "gzip": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                      "zstd": "application/vnd.docker.image.rootfs.diff.tar.zstd"}
MANIFEST_TYPES = frozenset({OCI_MANIFEST, DOCKER_MANIFEST})
REF_NAME = "org.opencontainers.image.ref.name"


@dataclass(slots=True)
class LayerBlob:
    """One layer to stream: where to read it and what digests it must have."""

    diff_id: str
    key: str  # what the opener needs (a digest, an archive member name)
    digest: str | None = None  # expected sha256 of the blob as stored
    media_type: str | None = None
    size: int | None = None
    created_by: str | None = None


def check_digest(digest: object, what: str) -> str:
    """A sha256 digest string, or SourceError (also keeps hostile digests out of blob paths)."""
    if not isinstance(digest, str) or not DIGEST_RE.match(digest):
        raise SourceError(f"{what}: invalid or unsupported digest {digest!r} (only sha256 is supported)")
    return digest


def parse_json(data: bytes, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SourceError(f"{what}: not valid JSON ({exc})") from exc
    if not isinstance(doc, dict):
        raise SourceError(f"{what}: expected a JSON object")
    return doc


def verify_document(data: bytes, digest: str, what: str) -> None:
    got = "sha256:" + hashlib.sha256(data).hexdigest()
    if got != digest:
        raise SourceError(f"{what}: digest mismatch (content is {got}, expected {digest}); refused")


def parse_platform(platform: str) -> tuple[str, str, str | None]:
    parts = platform.split("/")
    if len(parts) < 2 or not all(parts):
        raise SourceError(f"--platform {platform!r}: expected os/arch[/variant], e.g. linux/amd64")
    return parts[0], parts[1], parts[2] if len(parts) > 2 else None


def pick_platform(index: dict[str, Any], platform: str, what: str) -> tuple[dict[str, Any], str]:
    """The manifest descriptor of an index that matches ``platform``; returns it and the platform string."""
    want_os, want_arch, want_variant = parse_platform(platform)
    candidates: list[tuple[int, dict[str, Any], str]] = []
    for desc in index.get("manifests") or []:
        if not isinstance(desc, dict):
            continue
        plat = desc.get("platform") or {}
        if plat.get("os") != want_os or plat.get("architecture") != want_arch:
            continue
        variant = plat.get("variant")
        if want_variant is not None and variant not in (want_variant, None):
            continue
        # An exact variant beats a missing one; arm64 images often say v8 or nothing.
        score = 2 if variant == want_variant else 1
        name = "/".join(p for p in (want_os, want_arch, variant) if p)
        candidates.append((score, desc, name))
    if not candidates:
        have = sorted({"/".join(str(v) for v in (d.get("platform") or {}).values() if isinstance(v, str))
                       for d in index.get("manifests") or [] if isinstance(d, dict)})
        raise SourceError(f"{what}: no manifest for platform {platform} (available: {', '.join(have) or 'none'}); "
                          "choose one with --platform")
    candidates.sort(key=lambda c: -c[0])
    return candidates[0][1], candidates[0][2]


def layers_from(manifest: dict[str, Any], config: dict[str, Any], what: str) -> list[LayerBlob]:
    """Pair the manifest's layer descriptors with the config's diff IDs and history."""
    descs = manifest.get("layers")
    diff_ids = (config.get("rootfs") or {}).get("diff_ids")
    if not isinstance(descs, list) or not isinstance(diff_ids, list):
        raise SourceError(f"{what}: manifest has no layers or config has no rootfs.diff_ids")
    if len(descs) != len(diff_ids):
        raise SourceError(f"{what}: {len(descs)} layers in the manifest but {len(diff_ids)} diff IDs in the config")
    history = created_by_per_layer(config)
    out = []
    for i, (desc, diff_id) in enumerate(zip(descs, diff_ids, strict=True)):
        if not isinstance(desc, dict):
            raise SourceError(f"{what}: layer {i} is not a descriptor")
        digest = check_digest(desc.get("digest"), f"{what}: layer {i}")
        size = desc.get("size")
        out.append(LayerBlob(diff_id=check_digest(diff_id, f"{what}: diff ID {i}"), key=digest, digest=digest,
                             media_type=desc.get("mediaType"), size=size if isinstance(size, int) else None,
                             created_by=history[i] if i < len(history) else None))
    return out


def created_by_per_layer(config: dict[str, Any]) -> list[str | None]:
    """The history entries that made a layer (``empty_layer`` ones did not), in order."""
    out: list[str | None] = []
    for h in config.get("history") or []:
        if isinstance(h, dict) and not h.get("empty_layer"):
            cb = h.get("created_by")
            out.append(cb if isinstance(cb, str) else None)
    return out


class ImageSource(Source):
    """Base for image sources: subclasses fill ``self.layers``/``self._info`` and implement ``open_blob``."""

    kind = "image"

    def __init__(self, target: str, limits: Limits | None = None, verify: bool = True) -> None:
        self.target = target
        self.limits = limits or Limits()
        self.verify = verify
        self.layers: list[LayerBlob] = []
        self._info = SourceInfo(kind=self.kind, target=target)
        self._store: ContentStore | None = None
        # Layer hashes still running after open_view, checked by _settle (info() or a clean exit of the with).
        self._pending: tuple[Hasher, MappedFiles, list[int]] | None = None
        self._refused: SourceError | None = None

    @abstractmethod
    def open_blob(self, layer: LayerBlob) -> contextlib.AbstractContextManager[_Readable]:
        """The raw bytes of a layer blob as stored (compressed or not)."""

    def blob_file(self, layer: LayerBlob) -> tuple[str, int] | None:
        """(local file, offset) where the blob's bytes lie, for sources that have one."""
        return None

    def uncompressed_digest(self, layer: LayerBlob) -> str | None:
        """Sources whose blobs are not named by digest check the diff ID instead (docker-archive)."""
        return None

    def info(self) -> SourceInfo:
        self._settle()
        self._fill_info()
        return self._info

    def _settle(self) -> None:
        """Wait for the hashes of the layers the last ``open_view`` read in place and raise SourceError if one does
        not match: the scan is refused, nothing built from those layers is returned. ``build_inventory`` calls
        ``info()`` once cataloging is done, so hashing overlaps parsing and cataloging; a ``with`` block that
        ends normally settles too."""
        if self._refused is not None:
            raise self._refused
        if self._pending is None:
            return
        hasher, files, mapped = self._pending
        self._pending = None
        try:
            hasher.check()
            for job, idx in zip(hasher.jobs, mapped, strict=True):
                self.layers[idx].digest = self.layers[idx].digest or job.got
        except SourceError as exc:
            self._refused = exc
            raise
        finally:
            hasher.close()
            files.close()

    def _abandon(self) -> None:
        if self._pending is not None:
            hasher, files, _ = self._pending
            self._pending = None
            hasher.close()
            files.close()

    def _fill_info(self) -> None:
        self._info.kind = self.kind
        self._info.layers = [LayerInfo(diff_id=lb.diff_id, digest=lb.digest, media_type=lb.media_type,
                                       size=lb.size, created_by=lb.created_by) for lb in self.layers]

    @contextlib.contextmanager
    def _reader(self, layer: LayerBlob) -> Iterator[tuple[TarReader, BlobStream]]:
        with self.open_blob(layer) as raw:
            stream = BlobStream(raw, layer.digest or layer.key, length=layer.size,
                                digest=layer.digest if self.verify else None,
                                uncompressed_digest=self.uncompressed_digest(layer) if self.verify else None,
                                limits=self.limits)
            try:
                yield TarReader(stream, layer.diff_id), stream
            finally:
                stream.close()

    def open_view(self, wants: PathFilter) -> FileView:
        self._abandon()
        self._refused = None
        self._fill_info()
        if self._store is not None:
            self._store.close()
        self._store = ContentStore()
        fs = ImageFS([lb.diff_id for lb in self.layers], self._store)
        self.limits.used = 0
        files = MappedFiles()
        hasher: Hasher | None = None
        done = False
        try:
            # Uncompressed blobs on local disk are parsed from a mapping while one thread hashes them; the rest
            # stream through BlobStream (read, hash and decompress on a thread, parse here).
            mapped: dict[int, MappedBlob] = {}
            for idx, layer in enumerate(self.layers):
                location = self.blob_file(layer)
                blob = open_mapped(files, location, layer.size, layer.digest or layer.key, self.limits)
                if blob is None or location is None:
                    self._apply_streamed(fs, idx, layer, wants)
                    continue
                mapped[idx] = blob
                if self.verify:
                    hasher = hasher or Hasher()
                    hasher.add(blob, layer.digest, self.uncompressed_digest(layer))
                blob.account()
                reader = TarReader(blob, layer.diff_id)
                try:
                    fs.apply(idx, reader, wants, location)
                except SourceError:
                    if hasher is not None:  # a tampered earlier layer is the error, as when layers were streamed
                        hasher.check(upto=len(hasher.jobs) - 1)
                    raise
                layer.media_type = layer.media_type or DOCKER_LAYER_TYPES["none"]
                if reader.missing_end_blocks:
                    fs.warnings.append(f"layer {layer.diff_id}: no end-of-archive blocks (accepted)")
                if hasher is None and blob.available != blob.length:
                    raise SourceError(f"blob {blob.name}: {blob.available} bytes, manifest says {blob.length}")
            for idx, paths in sorted(fs.missing_link_targets().items()):
                if idx in mapped:
                    where = self.blob_file(self.layers[idx])
                    assert where is not None
                    mapped[idx].check_size()
                    fs.capture_at(idx, paths, where, _reader_at(mapped[idx]))
                    continue
                with self._reader(self.layers[idx]) as (reader, stream):
                    fs.capture(idx, reader, paths, self._in_place(self.layers[idx], stream))
                    stream.finish()
            done = True
        finally:
            if not done:
                if hasher is not None:
                    hasher.close()
                files.close()
        if hasher is not None:
            hasher.finish()
            self._pending = (hasher, files, list(mapped))
        else:
            files.close()
        if fs.warnings:
            self._info.metadata["warnings"] = list(fs.warnings)
        self._info.metadata["captured_bytes"] = self._store.in_memory + self._store.spooled + fs.in_place_bytes
        return LayeredView(fs, len(self.layers) - 1)

    def _apply_streamed(self, fs: ImageFS, idx: int, layer: LayerBlob, wants: PathFilter) -> None:
        with self._reader(layer) as (reader, stream):
            fs.apply(idx, reader, wants, self._in_place(layer, stream))
            stream.finish()
            # docker-archive layers carry no descriptor: describe them from what was read
            layer.media_type = layer.media_type or DOCKER_LAYER_TYPES[stream.compression]
            layer.digest = layer.digest or stream.raw_digest
            if reader.missing_end_blocks:
                fs.warnings.append(f"layer {layer.diff_id}: no end-of-archive blocks (accepted)")

    def _in_place(self, layer: LayerBlob, stream: BlobStream) -> tuple[str, int] | None:
        # Only verified, uncompressed blobs: what catalogers read later is what was hashed now.
        return self.blob_file(layer) if stream.compression == "none" and self.verify else None

    def close(self) -> None:
        self._abandon()
        if self._store is not None:
            self._store.close()
            self._store = None

    def __exit__(self, *exc: object) -> None:
        try:
            if exc[0] is None:
                self._settle()
        finally:
            self.close()


def _reader_at(blob: MappedBlob) -> Callable[[int, int], bytes]:
    def read_at(offset: int, n: int) -> bytes:
        return blob.mm[offset : min(offset + n, blob.end)]

    return read_at
