"""Uncompressed layers on local disk are parsed from a mapping while a thread hashes them (``sources/mapped.py``):
the view must equal the streamed one, and every refusal of the streamed path must still happen, in its words."""

from __future__ import annotations

import io
import json
import tarfile
import threading
from pathlib import Path

import pytest
from imagebuild import Layer, build_image, layer_tar, sha

from vulnhound.sources.content import SMALL
from vulnhound.sources.image import ImageSource
from vulnhound.sources.interface import FileView, SourceError, ViewError
from vulnhound.sources.resolve import SourceOptions, open_source

BIG = b"".join(b"%08d\n" % i for i in range(SMALL // 9 + 10))  # > SMALL: referenced in place, not copied

LAYERS = [
    [("file", "etc/os-release", b"ID=debian\n"), ("file", "usr/lib/big.bin", BIG),
     ("file", "usr/share/doc/unwanted", b"target of a wanted link"), ("file", "opt/gone/x", b"x"),
     ("file", "usr/lib/big2.bin", BIG[::-1]), ("file", "usr/share/other", b"nobody wants me")],
    [("symlink", "etc/wanted-link", "/usr/share/doc/unwanted"), ("hardlink", "etc/wanted-hard", "usr/lib/big.bin"),
     ("symlink", "etc/big-link", "../usr/lib/big2.bin"), ("whiteout", "opt/gone"),
     ("file", "etc/os-release", b"ID=debian\nVERSION_ID=12\n")],
]


def wanted(path: str) -> bool:
    return path.startswith("etc/")


def snapshot(view: FileView) -> dict[str, object]:
    out: dict[str, object] = {}
    for m in sorted(view.iter_files(), key=lambda m: m.path):
        try:
            body: bytes | None = view.read_bytes(m.path)
        except (FileNotFoundError, ViewError):
            body = None
        out[m.path] = (m.kind, m.size, m.link_target, m.layer, body, tuple(view.layer_history(m.path)))
    return out


def open_image(layout: Path, verify: bool = True) -> tuple[dict[str, object], dict[str, object]]:
    with open_source(f"oci-dir:{layout}", SourceOptions(verify_digests=verify)) as src:
        view = src.open_view(wanted)
        assert isinstance(src, ImageSource)
        return snapshot(view), json.loads(json.dumps(src.info().metadata))


@pytest.mark.parametrize("verify", [True, False])
def test_mapped_view_equals_streamed_view(tmp_path: Path, verify: bool) -> None:
    plain = build_image(tmp_path / "plain", [Layer(e, compression="none") for e in LAYERS])
    gz = build_image(tmp_path / "gz", [Layer(e, compression="gzip") for e in LAYERS])
    mapped, mapped_meta = open_image(plain.layout, verify)
    streamed, streamed_meta = open_image(gz.layout, verify)
    assert mapped == streamed
    # link targets nobody wanted were captured without a second read of their layer
    assert mapped["etc/wanted-link"][4] == b"target of a wanted link"  # type: ignore[index]
    assert mapped["etc/wanted-hard"][4] == BIG  # type: ignore[index]
    assert mapped["etc/big-link"][4] == BIG[::-1]  # type: ignore[index]
    assert mapped["usr/share/other"][4] is None  # type: ignore[index]  # not wanted, not captured
    assert "opt/gone/x" not in mapped
    assert mapped_meta["captured_bytes"] == streamed_meta["captured_bytes"]


def test_docker_archive_layers_get_digest_and_media_type(tmp_path: Path) -> None:
    tar = layer_tar([("file", "etc/os-release", b"ID=alpine\n")])
    archive = _docker_archive(tmp_path / "d.tar", [tar], [sha(tar)])
    with open_source(f"docker-archive:{archive}") as src:
        assert src.open_view(wanted).read_bytes("etc/os-release") == b"ID=alpine\n"
        (layer,) = src.info().layers
    assert layer.digest == sha(tar) and layer.media_type == "application/vnd.docker.image.rootfs.diff.tar"


def test_tampered_layer_is_refused_after_parsing(tmp_path: Path) -> None:
    img = build_image(tmp_path / "img", [Layer([("file", "etc/os-release", b"ID=debian\n")], compression="none"),
                                         Layer([("file", "etc/b", b"b" * 3000)], compression="none")])
    blob = img.layout / "blobs" / "sha256" / img.layer_digests[1].split(":")[1]
    data = bytearray(blob.read_bytes())
    data[700] ^= 1  # inside the body: the tar still parses
    blob.write_bytes(bytes(data))
    with pytest.raises(SourceError, match=rf"blob {img.layer_digests[1]}: digest mismatch"):
        open_image(img.layout)
    assert open_image(img.layout, verify=False)[0]["etc/os-release"]


def test_tampered_earlier_layer_wins_over_a_later_parse_error(tmp_path: Path) -> None:
    # Streamed, layer 0's digest was checked before layer 1 was read: that stays the error.
    img = build_image(tmp_path / "img", [Layer([("file", "a", b"a" * 3000)], compression="none"),
                                         Layer([("file", "b", b"b")], compression="none")])
    first = img.layout / "blobs" / "sha256" / img.layer_digests[0].split(":")[1]
    data = bytearray(first.read_bytes())
    data[700] ^= 1
    first.write_bytes(bytes(data))
    second = img.layout / "blobs" / "sha256" / img.layer_digests[1].split(":")[1]
    second.write_bytes(b"not a tar header" * 64)  # same file, now garbage
    with pytest.raises(SourceError, match=rf"blob {img.layer_digests[0]}: digest mismatch"):
        open_image(img.layout)
    with pytest.raises(SourceError, match="corrupt tar header"):
        open_image(img.layout, verify=False)


def test_truncated_uncompressed_layer(tmp_path: Path) -> None:
    tar = layer_tar([("file", "big", b"A" * 5000), ("file", "after", b"b")])
    img = build_image(tmp_path / "img", [], raw_layers=[(tar[: 512 + 2000], tar)])
    _set_media_none(img.layout)
    with pytest.raises(SourceError, match=r"truncated inside big.*cut short"):
        open_image(img.layout)


def test_blob_shorter_than_its_descriptor(tmp_path: Path) -> None:
    img = build_image(tmp_path / "img", [Layer([("file", "etc/os-release", b"ID=x\n")], compression="none")])
    manifest_path = img.layout / "blobs" / "sha256" / img.manifest_digest.split(":")[1]
    manifest = json.loads(manifest_path.read_text())
    manifest["layers"][0]["size"] += 4096  # the file on disk is 4 KB short of what the manifest says
    _rewrite_manifest(img.layout, img.manifest_digest, manifest)
    for verify in (True, False):
        with pytest.raises(SourceError, match=r"bytes, manifest says"):
            open_image(img.layout, verify)


def test_diff_id_mismatch_in_docker_archive(tmp_path: Path) -> None:
    real, fake = layer_tar([("file", "f", b"real")]), layer_tar([("file", "f", b"fake")])
    archive = _docker_archive(tmp_path / "d.tar", [fake], [sha(real)])
    with pytest.raises(SourceError, match="not the diff ID"), open_source(f"docker-archive:{archive}") as src:
        src.open_view(wanted)


def test_hashing_thread_ends_with_the_scan(tmp_path: Path) -> None:
    img = build_image(tmp_path / "img", [Layer([("file", "a", b"a" * 3000)], compression="none"),
                                         Layer([("file", "b", b"b")], compression="none")])
    second = img.layout / "blobs" / "sha256" / img.layer_digests[1].split(":")[1]
    second.write_bytes(b"garbage!" * 128)
    with pytest.raises(SourceError):
        open_image(img.layout)
    open_image(build_image(tmp_path / "ok", [Layer(LAYERS[0], compression="none")]).layout)
    assert not [t for t in threading.enumerate() if t.name == "layer sha256"]


def _docker_archive(path: Path, tars: list[bytes], diff_ids: list[str]) -> Path:
    config = json.dumps({"rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    names = [f"l{i}/layer.tar" for i in range(len(tars))]
    manifest = json.dumps([{"Config": "config.json", "RepoTags": ["x:1"], "Layers": names}]).encode()
    members = [*zip(names, tars, strict=True), ("config.json", config), ("manifest.json", manifest)]
    with tarfile.open(path, "w") as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def _rewrite_manifest(layout: Path, old_digest: str, manifest: dict[str, object]) -> None:
    data = json.dumps(manifest, sort_keys=True).encode()
    (layout / "blobs" / "sha256" / sha(data).split(":")[1]).write_bytes(data)
    index = json.loads((layout / "index.json").read_text())
    for desc in index["manifests"]:
        if desc["digest"] == old_digest:
            desc["digest"], desc["size"] = sha(data), len(data)
    (layout / "index.json").write_text(json.dumps(index))


def _set_media_none(layout: Path) -> None:
    index = json.loads((layout / "index.json").read_text())
    digest = index["manifests"][0]["digest"]
    manifest = json.loads((layout / "blobs" / "sha256" / digest.split(":")[1]).read_text())
    for desc in manifest["layers"]:
        desc["mediaType"] = "application/vnd.oci.image.layer.v1.tar"
    _rewrite_manifest(layout, digest, manifest)


def test_a_file_that_shrinks_under_the_mapping_is_refused_not_crashed(tmp_path: Path) -> None:
    from vulnhound.sources.blobstream import Limits
    from vulnhound.sources.mapped import MappedFiles, open_mapped

    tar = layer_tar([("file", "a", b"a" * 100_000)])
    path = tmp_path / "blob.tar"
    path.write_bytes(tar)
    files = MappedFiles()
    try:
        blob = open_mapped(files, (str(path), 0), len(tar), "blob.tar", Limits())
        assert blob is not None
        blob.check_size()  # intact: fine
        with open(path, "r+b") as fh:
            fh.truncate(4096)  # what `docker save -o` over the same path does first
        with pytest.raises(SourceError, match="shrank to 4096 bytes while being read"):
            blob.check_size()
    finally:
        files.close()
