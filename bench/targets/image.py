"""Pack root filesystem stages into a real multi-layer OCI image (layout, archive, docker-archive, registry).

Each layer is the difference between two stages of a tree: new or changed paths as tar entries, removed paths
as whiteouts (``.wh.NAME``), exactly as a container build would record them.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import shutil
import socket
import stat
import subprocess
import tarfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SKIP_TOP = {"proc", "sys", "dev", ".vulnhound-built"}


@dataclass(frozen=True)
class Entry:
    kind: str
    size: int
    mtime: int
    mode: int
    link: str | None


def scan_tree(root: Path) -> dict[str, Entry]:
    out: dict[str, Entry] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        rel_dir = os.path.relpath(dirpath, root)
        rel_dir = "" if rel_dir == "." else rel_dir
        if not rel_dir:
            dirnames[:] = [d for d in dirnames if d not in SKIP_TOP]
        for name in [*dirnames, *filenames]:
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if rel in SKIP_TOP:
                continue
            st = os.lstat(os.path.join(dirpath, name))
            if stat.S_ISLNK(st.st_mode):
                out[rel] = Entry("l", 0, 0, 0, os.readlink(os.path.join(dirpath, name)))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = Entry("d", 0, 0, stat.S_IMODE(st.st_mode), None)
            elif stat.S_ISREG(st.st_mode):
                out[rel] = Entry("f", st.st_size, st.st_mtime_ns, stat.S_IMODE(st.st_mode), None)
        # symlinked dirs are listed in dirnames by os.walk but not followed (followlinks=False)
    return out


def diff_trees(old: dict[str, Entry] | None, new: dict[str, Entry]) -> tuple[list[str], list[str]]:
    """(paths to add in the layer, paths to white out) turning ``old`` into ``new``."""
    if old is None:
        return sorted(new), []
    added = sorted(p for p, e in new.items() if old.get(p) != e or (e.kind == "d" and p not in old))
    removed = [p for p in old if p not in new]
    removed_set = set(removed)
    # One whiteout for a removed directory covers everything under it.
    whiteouts = sorted(p for p in removed if p.rpartition("/")[0] not in removed_set)
    return added, whiteouts


def write_layer(root: Path, added: Sequence[str], whiteouts: Sequence[str], out: io.BufferedIOBase) -> None:
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.GNU_FORMAT) as tar:
        for rel in added:
            ti = tar.gettarinfo(str(root / rel), arcname=rel)
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = "root"
            if ti.isreg():
                with open(root / rel, "rb") as fh:
                    tar.addfile(ti, fh)
            else:
                tar.addfile(ti)
        for rel in whiteouts:
            head, _, name = rel.rpartition("/")
            ti = tarfile.TarInfo(f"{head}/.wh.{name}" if head else f".wh.{name}")
            ti.mtime = 0
            tar.addfile(ti)


class _Digest(io.RawIOBase):
    """A write-through sink that hashes and counts what passes into ``inner``."""

    def __init__(self, inner: io.BufferedIOBase | gzip.GzipFile) -> None:
        self.inner, self.sha, self.size = inner, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self.sha.update(b)
        self.size += len(b)
        self.inner.write(b)
        return len(b)


def build_layout(
    stages: Sequence[tuple[Path, str]], dest: Path, tag: str = "test", compress: bool = True,
) -> Path:
    """Write an OCI image layout to ``dest`` whose layers turn ``stages[0]`` into ``stages[-1]``.

    ``stages`` pairs a tree with the history line ("created_by") of the layer that produced it."""
    if (dest / "index.json").exists():
        return dest
    tmp = dest.with_name(dest.name + ".partial")
    if tmp.exists():
        shutil.rmtree(tmp)
    blobs = tmp / "blobs/sha256"
    blobs.mkdir(parents=True)
    layers, diff_ids, history = [], [], []
    prev: dict[str, Entry] | None = None
    for root, created_by in stages:
        tree = scan_tree(root)
        added, whiteouts = diff_trees(prev, tree)
        prev = tree
        part = blobs / "layer.partial"
        with open(part, "wb") as raw:
            outer = _Digest(raw)
            if compress:
                gz = gzip.GzipFile(fileobj=outer, mode="wb", mtime=0, compresslevel=6)
                inner = _Digest(gz)
                write_layer(root, added, whiteouts, inner)  # type: ignore[arg-type]
                gz.close()
            else:
                inner = outer
                write_layer(root, added, whiteouts, inner)  # type: ignore[arg-type]
        digest = outer.sha.hexdigest()
        part.rename(blobs / digest)
        diff_ids.append(f"sha256:{inner.sha.hexdigest()}")
        media = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if compress else "")
        layers.append({"mediaType": media, "digest": f"sha256:{digest}", "size": outer.size})
        history.append({"created": "2026-01-01T00:00:00Z", "created_by": created_by})
    config = {
        "architecture": "amd64", "os": "linux", "created": "2026-01-01T00:00:00Z",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["/bin/bash"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids}, "history": history,
    }
    cfg_desc = _put_json(blobs, config, "application/vnd.oci.image.config.v1+json")
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": cfg_desc, "layers": layers}
    man_desc = _put_json(blobs, manifest, "application/vnd.oci.image.manifest.v1+json")
    man_desc["annotations"] = {"org.opencontainers.image.ref.name": tag}
    man_desc["platform"] = {"architecture": "amd64", "os": "linux"}
    (tmp / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [man_desc]}))
    (tmp / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)
    return dest


def _put_json(blobs: Path, obj: object, media: str) -> dict[str, object]:
    data = json.dumps(obj, separators=(",", ":")).encode()
    digest = hashlib.sha256(data).hexdigest()
    (blobs / digest).write_bytes(data)
    return {"mediaType": media, "digest": f"sha256:{digest}", "size": len(data)}


def skopeo_copy(src: str, dst: str, *extra: str) -> None:
    subprocess.run(["skopeo", "copy", "-q", *extra, src, dst], check=True)


def convert(layout: Path, tag: str, oci_archive: Path, docker_archive: Path) -> None:
    if not oci_archive.exists():
        skopeo_copy(f"oci:{layout}:{tag}", f"oci-archive:{oci_archive}.partial:{tag}")
        os.rename(f"{oci_archive}.partial", oci_archive)
    if not docker_archive.exists():
        skopeo_copy(f"oci:{layout}:{tag}", f"docker-archive:{docker_archive}.partial:vulnhound/{tag}:latest")
        os.rename(f"{docker_archive}.partial", docker_archive)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalRegistry:
    """Debian's docker-registry (the CNCF distribution server) on 127.0.0.1, storage in a private dir."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> LocalRegistry:
        self.workdir.mkdir(parents=True, exist_ok=True)
        cfg = self.workdir / "config.yml"
        cfg.write_text(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n"
            f"    rootdirectory: {self.workdir / 'data'}\n  delete:\n    enabled: true\n"
            f"http:\n  addr: {self.host}\n"
        )
        self.proc = subprocess.Popen(["docker-registry", "serve", str(cfg)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("docker-registry did not start")

    def push(self, layout: Path, tag: str, name: str) -> str:
        ref = f"{self.host}/{name}:{tag}"
        skopeo_copy(f"oci:{layout}:{tag}", f"docker://{ref}", "--dest-tls-verify=false")
        return ref

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
            self.proc = None

    def __enter__(self) -> LocalRegistry:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
