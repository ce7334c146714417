"""Build small OCI images from Python for tests: layer tars, blobs named by sha256, config, manifest, index.

Also converts a layout with skopeo (oci-archive, docker-archive, a registry push) and applies layers onto a
plain directory as an independent reference for what the squashed filesystem should be.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# One entry: ("file", path, data) | ("dir", path) | ("symlink", path, target) | ("hardlink", path, target)
#            | ("whiteout", path) | ("opaque", dir_path)
Entry = tuple[Any, ...]


@dataclass
class Layer:
    entries: list[Entry]
    compression: str = "gzip"  # "gzip", "zstd" or "none"
    created_by: str = "test"


@dataclass
class BuiltImage:
    layout: Path
    manifest_digest: str
    config_digest: str
    diff_ids: list[str] = field(default_factory=list)
    layer_digests: list[str] = field(default_factory=list)


def layer_tar(entries: list[Entry]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for e in entries:
            kind, path = e[0], e[1]
            info = tarfile.TarInfo(path)
            info.mtime = 0
            if kind == "file":
                data = e[2]
                info.size = len(data)
                info.mode = e[3] if len(e) > 3 else 0o644
                tf.addfile(info, io.BytesIO(data))
                continue
            if kind == "dir":
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
            elif kind == "symlink":
                info.type = tarfile.SYMTYPE
                info.linkname = e[2]
            elif kind == "hardlink":
                info.type = tarfile.LNKTYPE
                info.linkname = e[2]
            elif kind == "whiteout":
                parent, _, base = path.rpartition("/")
                info.name = f"{parent}/.wh.{base}" if parent else f".wh.{base}"
            elif kind == "opaque":
                info.name = f"{path}/.wh..wh..opq"
            tf.addfile(info)
    return buf.getvalue()


def compress(data: bytes, how: str) -> tuple[bytes, str]:
    if how == "gzip":
        return gzip.compress(data, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"
    if how == "zstd":
        import zstandard

        return zstandard.ZstdCompressor().compress(data), "application/vnd.oci.image.layer.v1.tar+zstd"
    return data, "application/vnd.oci.image.layer.v1.tar"


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def write_blob(layout: Path, data: bytes) -> str:
    digest = sha(data)
    d = layout / "blobs" / "sha256"
    d.mkdir(parents=True, exist_ok=True)
    (d / digest.split(":")[1]).write_bytes(data)
    return digest


def build_image(layout: Path, layers: list[Layer], ref: str = "latest", arch: str = "amd64",
                raw_layers: list[tuple[bytes, str]] | None = None) -> BuiltImage:
    """Write one image into an OCI layout at ``layout`` (added to index.json if it already holds images).

    ``raw_layers`` replaces ``layers`` with prepared (blob bytes, uncompressed tar bytes) pairs (hostile cases).
    """
    layout.mkdir(parents=True, exist_ok=True)
    (layout / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    descs, diff_ids, history = [], [], []
    pairs = raw_layers if raw_layers is not None else []
    if raw_layers is None:
        for layer in layers:
            tar = layer_tar(layer.entries)
            blob, _ = compress(tar, layer.compression)
            pairs.append((blob, tar))
    hows = [lay.compression for lay in layers] if raw_layers is None else ["gzip"] * len(pairs)
    for (blob, tar), how in zip(pairs, hows, strict=True):
        _, media = compress(b"", how)
        digest = write_blob(layout, blob)
        descs.append({"mediaType": media, "digest": digest, "size": len(blob)})
        diff_ids.append(sha(tar))
        history.append({"created_by": f"layer {len(history)}"})
    config = {"architecture": arch, "os": "linux", "rootfs": {"type": "layers", "diff_ids": diff_ids},
              "history": [{"created_by": "ENV A=1", "empty_layer": True}, *history], "config": {}}
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_digest = write_blob(layout, config_bytes)
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest,
                           "size": len(config_bytes)},
                "layers": descs}
    manifest_bytes = json.dumps(manifest, sort_keys=True).encode()
    manifest_digest = write_blob(layout, manifest_bytes)
    index_path = layout / "index.json"
    index = json.loads(index_path.read_text()) if index_path.exists() else {"schemaVersion": 2, "manifests": []}
    index["manifests"].append({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                               "digest": manifest_digest, "size": len(manifest_bytes),
                               "annotations": {"org.opencontainers.image.ref.name": ref}})
    index_path.write_text(json.dumps(index))
    return BuiltImage(layout, manifest_digest, config_digest, diff_ids, [d["digest"] for d in descs])


def skopeo(*args: str) -> None:
    subprocess.run(["skopeo", "--insecure-policy", *args], check=True, capture_output=True, timeout=120)


def to_oci_archive(layout: Path, ref: str, dest: Path) -> Path:
    skopeo("copy", "-q", f"oci:{layout}:{ref}", f"oci-archive:{dest}:{ref}")
    return dest


def to_docker_archive(layout: Path, ref: str, dest: Path, name: str = "test/image") -> Path:
    skopeo("copy", "-q", f"oci:{layout}:{ref}", f"docker-archive:{dest}:{name}:{ref}")
    return dest


def apply_to_dir(layers: list[Layer], root: Path) -> Path:
    """Reference squash: extract each layer onto ``root`` applying whiteouts the way the OCI spec says."""
    root.mkdir(parents=True, exist_ok=True)
    for layer in layers:
        written: set[str] = set()
        for e in layer.entries:
            kind, path = e[0], e[1].strip("/")
            target = root / path
            if kind == "whiteout":
                _remove(target)
                continue
            if kind == "opaque":
                for child in target.iterdir() if target.is_dir() else []:
                    rel = str(child.relative_to(root))
                    if not any(w == rel or w.startswith(rel + "/") for w in written):
                        _remove(child)
                continue
            written.add(path)
            target.parent.mkdir(parents=True, exist_ok=True)
            if kind == "dir":
                if not target.is_dir():
                    _remove(target)
                target.mkdir(exist_ok=True)
                continue
            _remove(target)
            if kind == "file":
                target.write_bytes(e[2])
            elif kind == "symlink":
                target.symlink_to(e[2])
            elif kind == "hardlink":
                os.link(root / e[2].strip("/"), target)
    return root


def _remove(p: Path) -> None:
    if p.is_symlink() or p.is_file():
        p.unlink()
    elif p.is_dir():
        shutil.rmtree(p)
