"""Image files on disk: OCI image layouts (``oci-dir:``), OCI archives (``oci-archive:``) and ``docker save``
archives (``docker-archive:``). Archives are read in place: blobs are byte ranges of the outer tar."""

from __future__ import annotations

import contextlib
import os
import tarfile
from collections.abc import Iterator
from typing import Any, BinaryIO

from vulnhound.sources.blobstream import Limits, _Readable, compression_of, open_file_slice
from vulnhound.sources.image import (
    INDEX_TYPES,
    MAX_DOCUMENT,
    REF_NAME,
    ImageSource,
    LayerBlob,
    check_digest,
    created_by_per_layer,
    layers_from,
    parse_json,
    pick_platform,
    verify_document,
)
from vulnhound.sources.interface import SourceError, normalize

MAX_INDEX_DEPTH = 4


def split_ref(spec: str) -> tuple[str, str | None]:
    """"PATH" or "PATH:ref" → (PATH, ref): the part before the last colon must exist on disk."""
    if os.path.exists(spec):
        return spec, None
    i = spec.find(":")
    while i > 0:  # "x.tar:name:tag" → ("x.tar", "name:tag")
        if os.path.exists(spec[:i]):
            return spec[:i], spec[i + 1 :] or None
        i = spec.find(":", i + 1)
    raise SourceError(f"{spec}: no such file or directory")


class DirBlobs:
    """Files of an OCI layout directory."""

    def __init__(self, root: str) -> None:
        self.root = root

    def _path(self, name: str) -> str:
        return os.path.join(self.root, *normalize(name).split("/"))

    def exists(self, name: str) -> bool:
        return os.path.isfile(self._path(name))

    def read(self, name: str, limit: int = MAX_DOCUMENT) -> bytes:
        try:
            with open(self._path(name), "rb") as fh:
                data = fh.read(limit + 1)
        except FileNotFoundError:
            raise SourceError(f"{self.root}: {name} is missing") from None
        except OSError as exc:
            raise SourceError(f"{self.root}: cannot read {name} ({exc})") from exc
        if len(data) > limit:
            raise SourceError(f"{self.root}: {name} is larger than {limit} bytes; refused")
        return data

    def size(self, name: str) -> int:
        return os.path.getsize(self._path(name))

    def location(self, name: str) -> tuple[str, int] | None:
        return (os.path.abspath(self._path(name)), 0)

    @contextlib.contextmanager
    def open(self, name: str) -> Iterator[_Readable]:
        try:
            fh = open(self._path(name), "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise SourceError(f"{self.root}: cannot open {name} ({exc})") from exc
        with fh:
            yield fh

    def close(self) -> None:
        return None


class TarBlobs:
    """Members of an uncompressed tar, found by one header scan and read as byte ranges."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.members: dict[str, tuple[int, int]] = {}
        self.links: dict[str, str] = {}
        try:
            fh: BinaryIO = open(path, "rb")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise SourceError(f"{path}: cannot open ({exc})") from exc
        with fh:
            if compression_of(fh.read(4)) != "none":
                raise SourceError(f"{path}: a compressed archive; decompress it first (e.g. gunzip/zstd -d)")
            fh.seek(0)
            try:
                with tarfile.open(fileobj=fh, mode="r:") as tf:
                    for m in tf:
                        name = normalize(m.name)
                        if m.isreg():
                            self.members[name] = (m.offset_data, m.size)
                        elif m.issym():
                            base = name.rpartition("/")[0]
                            self.links[name] = normalize(f"{base}/{m.linkname}")
                        elif m.islnk():
                            self.links[name] = normalize(m.linkname)
            except (tarfile.TarError, OSError, EOFError) as exc:
                raise SourceError(f"{path}: not a readable tar archive ({exc})") from exc

    def _find(self, name: str) -> tuple[int, int] | None:
        name = normalize(name)
        for _ in range(10):
            if name in self.members:
                return self.members[name]
            if name not in self.links:
                return None
            name = self.links[name]
        return None

    def exists(self, name: str) -> bool:
        return self._find(name) is not None

    def location(self, name: str) -> tuple[str, int] | None:
        found = self._find(name)
        return (os.path.abspath(self.path), found[0]) if found else None

    def size(self, name: str) -> int:
        found = self._find(name)
        if found is None:
            raise SourceError(f"{self.path}: {name} is missing from the archive")
        return found[1]

    def read(self, name: str, limit: int = MAX_DOCUMENT) -> bytes:
        found = self._find(name)
        if found is None:
            raise SourceError(f"{self.path}: {name} is missing from the archive")
        offset, size = found
        if size > limit:
            raise SourceError(f"{self.path}: {name} is larger than {limit} bytes; refused")
        with open(self.path, "rb") as fh:
            fh.seek(offset)
            return fh.read(size)

    @contextlib.contextmanager
    def open(self, name: str) -> Iterator[_Readable]:
        found = self._find(name)
        if found is None:
            raise SourceError(f"{self.path}: {name} is missing from the archive")
        with open(self.path, "rb") as fh:
            yield open_file_slice(fh, *found)

    def close(self) -> None:
        return None


Blobs = DirBlobs | TarBlobs


def blob_name(digest: str) -> str:
    return "blobs/sha256/" + digest.split(":", 1)[1]


class OCILayoutSource(ImageSource):
    """An OCI image layout, as a directory (``oci-dir``) or a tar of one (``oci-archive``)."""

    def __init__(self, spec: str, kind: str = "oci-dir", platform: str = "linux/amd64",
                 limits: Limits | None = None, verify: bool = True) -> None:
        self.kind = kind
        super().__init__(spec, limits, verify)
        path, ref = split_ref(spec)
        if kind == "oci-dir":
            if not os.path.isdir(path):
                raise SourceError(f"{path}: not a directory (an OCI image layout holds oci-layout and index.json)")
            self.blobs: Blobs = DirBlobs(path)
        else:
            self.blobs = TarBlobs(path)
        if not self.blobs.exists("oci-layout"):
            raise SourceError(f"{path}: no oci-layout file; not an OCI image layout")
        index = parse_json(self.blobs.read("index.json"), f"{path}: index.json")
        desc = self._select(index, ref, platform, path)
        manifest_digest, manifest = self._manifest(desc, platform, path)
        config_desc = manifest.get("config") or {}
        config_digest = check_digest(config_desc.get("digest"), f"{path}: config")
        config = parse_json(self._document(config_digest, "config"), f"{path}: config {config_digest}")
        self.layers = layers_from(manifest, config, f"{path}: manifest {manifest_digest}")
        for lb in self.layers:
            if not self.blobs.exists(blob_name(lb.key)):
                raise SourceError(f"{path}: manifest {manifest_digest} references layer blob {lb.key}, "
                                  "which is missing from the layout")
            if lb.size is None:
                lb.size = self.blobs.size(blob_name(lb.key))
        self._info.digest = manifest_digest
        self._info.metadata["image_id"] = config_digest
        names = (desc.get("annotations") or {}).get(REF_NAME)
        self._info.repo_tags = (names,) if isinstance(names, str) else ()

    def _document(self, digest: str, what: str) -> bytes:
        name = blob_name(digest)
        if not self.blobs.exists(name):
            raise SourceError(f"{self.target}: {what} blob {digest} is missing from the layout")
        data = self.blobs.read(name)
        verify_document(data, digest, f"{self.target}: {what} blob")
        return data

    def _select(self, index: dict[str, Any], ref: str | None, platform: str, path: str) -> dict[str, Any]:
        descs = [d for d in index.get("manifests") or [] if isinstance(d, dict)]
        if ref is not None:
            named = [d for d in descs if _ref_names(d) & {ref}]
            if not named:
                have = sorted(set().union(*(_ref_names(d) for d in descs))) if descs else []
                raise SourceError(f"{path}: no image named {ref!r} in the layout (have: {', '.join(have) or 'none'})")
            descs = named
        if not descs:
            raise SourceError(f"{path}: index.json lists no manifests")
        if len(descs) == 1:
            return descs[0]
        if all("platform" in d for d in descs):
            chosen, name = pick_platform({"manifests": descs}, platform, path)
            self._info.platform = name
            return chosen
        have = sorted(set().union(*(_ref_names(d) for d in descs)))
        raise SourceError(f"{path}: {len(descs)} images in the layout; name one as {path}:REF "
                          f"(have: {', '.join(have) or 'unnamed'})")

    def _manifest(self, desc: dict[str, Any], platform: str, path: str) -> tuple[str, dict[str, Any]]:
        for _ in range(MAX_INDEX_DEPTH):
            digest = check_digest(desc.get("digest"), f"{path}: manifest descriptor")
            doc = parse_json(self._document(digest, "manifest"), f"{path}: manifest {digest}")
            if desc.get("mediaType") in INDEX_TYPES or doc.get("mediaType") in INDEX_TYPES or "manifests" in doc:
                desc, self._info.platform = pick_platform(doc, platform, f"{path}: index {digest}")
                continue
            return digest, doc
        raise SourceError(f"{path}: indexes nested deeper than {MAX_INDEX_DEPTH}; refused")

    def open_blob(self, layer: LayerBlob) -> contextlib.AbstractContextManager[_Readable]:
        return self.blobs.open(blob_name(layer.key))

    def blob_file(self, layer: LayerBlob) -> tuple[str, int] | None:
        return self.blobs.location(blob_name(layer.key))


def _ref_names(desc: dict[str, Any]) -> set[str]:
    ann = desc.get("annotations") or {}
    names = {v for k, v in ann.items() if k in (REF_NAME, "io.containerd.image.name") and isinstance(v, str)}
    return names | {n.rpartition(":")[2] for n in names if ":" in n}


class DockerArchiveSource(ImageSource):
    """``docker save`` / ``skopeo copy … docker-archive:`` output: manifest.json, a config, layer tars."""

    kind = "docker-archive"

    def __init__(self, spec: str, limits: Limits | None = None, verify: bool = True) -> None:
        super().__init__(spec, limits, verify)
        path, ref = split_ref(spec)
        self.blobs = TarBlobs(path)
        if not self.blobs.exists("manifest.json"):
            raise SourceError(f"{path}: no manifest.json; not a docker-archive")
        doc = _json_any(self.blobs.read("manifest.json"), f"{path}: manifest.json")
        if not isinstance(doc, list) or not doc or not all(isinstance(e, dict) for e in doc):
            raise SourceError(f"{path}: manifest.json is not a list of images")
        entry = _pick_entry(doc, ref, path)
        config_name = entry.get("Config")
        if not isinstance(config_name, str):
            raise SourceError(f"{path}: manifest.json entry has no Config")
        config_bytes = self.blobs.read(config_name)
        stem = os.path.basename(config_name).removesuffix(".json")
        if len(stem) == 64:  # named by its digest: check it
            verify_document(config_bytes, "sha256:" + stem, f"{path}: config {config_name}")
        config = parse_json(config_bytes, f"{path}: config {config_name}")
        names = entry.get("Layers")
        diff_ids = (config.get("rootfs") or {}).get("diff_ids")
        if not isinstance(names, list) or not isinstance(diff_ids, list) or len(names) != len(diff_ids):
            raise SourceError(f"{path}: manifest.json Layers do not match the config's rootfs.diff_ids")
        history = created_by_per_layer(config)
        for i, (name, diff_id) in enumerate(zip(names, diff_ids, strict=True)):
            if not isinstance(name, str) or not self.blobs.exists(name):
                raise SourceError(f"{path}: manifest.json references layer {name!r}, which is missing from the archive")
            base = normalize(name)
            digest = "sha256:" + base.rsplit("/", 1)[1] if base.startswith("blobs/sha256/") else None
            self.layers.append(LayerBlob(diff_id=check_digest(diff_id, f"{path}: diff ID {i}"), key=name,
                                         digest=check_digest(digest, f"{path}: {name}") if digest else None,
                                         size=self.blobs.size(name),
                                         created_by=history[i] if i < len(history) else None))
        import hashlib

        self._info.metadata["image_id"] = "sha256:" + hashlib.sha256(config_bytes).hexdigest()
        tags = entry.get("RepoTags") or []
        self._info.repo_tags = tuple(t for t in tags if isinstance(t, str))

    def uncompressed_digest(self, layer: LayerBlob) -> str | None:
        return layer.diff_id if layer.digest is None else None

    def open_blob(self, layer: LayerBlob) -> contextlib.AbstractContextManager[_Readable]:
        return self.blobs.open(layer.key)

    def blob_file(self, layer: LayerBlob) -> tuple[str, int] | None:
        return self.blobs.location(layer.key)


def _json_any(data: bytes, what: str) -> object:
    import json

    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SourceError(f"{what}: not valid JSON ({exc})") from exc


def _pick_entry(doc: list[dict[str, Any]], ref: str | None, path: str) -> dict[str, Any]:
    if ref is None:
        return doc[0]
    if ref.startswith("@") and ref[1:].isdigit():
        i = int(ref[1:])
        if i < len(doc):
            return doc[i]
    for entry in doc:
        tags = entry.get("RepoTags") or []
        if ref in tags or any(isinstance(t, str) and t.rpartition(":")[2] == ref for t in tags):
            return entry
    have = sorted(t for e in doc for t in (e.get("RepoTags") or []) if isinstance(t, str))
    raise SourceError(f"{path}: no image {ref!r} in the archive (have: {', '.join(have) or 'untagged'})")
