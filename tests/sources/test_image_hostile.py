"""Hostile images: escaping paths and links, loops, truncation, wrong digests, bombs, missing blobs.

Each case must fail with a clear error (or be neutralized inside the root) and write nothing outside the
scanner's own temporary directory, which must be gone after close.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from imagebuild import Layer, build_image, layer_tar, sha

from vulnhound.sources.blobstream import Limits
from vulnhound.sources.interface import SourceError, ViewError
from vulnhound.sources.oci import OCILayoutSource
from vulnhound.sources.resolve import SourceOptions, open_source


@pytest.fixture(autouse=True)
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Point the scanner's temp files at a folder of this test; it must be empty again afterwards."""
    spool = tmp_path / "scanner-tmp"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    yield spool
    assert list(spool.iterdir()) == []


def scan(target: str, **opts: object) -> dict[str, bytes | None]:
    with open_source(target, SourceOptions(**opts)) as src:  # type: ignore[arg-type]
        view = src.open_view(lambda p: True)
        out: dict[str, bytes | None] = {}
        for m in view.iter_files():
            try:
                out[m.path] = view.read_bytes(m.path)
            except (FileNotFoundError, ViewError):
                out[m.path] = None
        return out


def test_dotdot_and_absolute_entry_names_stay_inside(tmp_path: Path) -> None:
    img = build_image(tmp_path / "img", [Layer([("file", "../../../escaped", b"x"), ("file", "/abs/file", b"y"),
                                                ("file", "a/../../b", b"z")])])
    files = scan(f"oci-dir:{img.layout}")
    assert files == {"escaped": b"x", "abs/file": b"y", "b": b"z"}
    assert not (tmp_path.parent / "escaped").exists()


def test_links_pointing_outside_are_never_followed_out(tmp_path: Path) -> None:
    img = build_image(tmp_path / "img", [Layer([
        ("symlink", "abs", "/etc/hostname"), ("symlink", "up", "../../../../../etc/hostname"),
        ("hardlink", "hard", "../../../etc/hostname"), ("file", "etc/passwd-inside", b"mine"),
        ("symlink", "ok", "/etc/../etc/passwd-inside")])])
    with open_source(f"oci-dir:{img.layout}") as src:
        view = src.open_view(lambda p: True)
        for name in ("abs", "up", "hard"):
            with pytest.raises(FileNotFoundError):
                view.open(name)  # the host's /etc/hostname exists, the image's does not
        assert view.resolve("ok") == "etc/passwd-inside"
        assert view.read_bytes("ok") == b"mine"
        assert view.meta("hard") is not None and view.meta("hard").link_target == "etc/hostname"  # type: ignore[union-attr]


def test_symlink_loops_raise_view_error(tmp_path: Path) -> None:
    img = build_image(tmp_path / "img", [Layer([("symlink", "a", "b"), ("symlink", "b", "./a"),
                                                ("symlink", "self", "./self"), ("symlink", "d", "d/x")])])
    with open_source(f"oci-dir:{img.layout}") as src:
        view = src.open_view(lambda p: True)  # wanted loops must not break the second pass either
        for name in ("a", "self", "d"):
            with pytest.raises(ViewError, match="too many levels"):
                view.open(name)


def _raw_image(tmp_path: Path, tar: bytes, blob: bytes | None = None) -> Path:
    img = build_image(tmp_path / "img", [], raw_layers=[(gzip.compress(tar, mtime=0) if blob is None else blob,
                                                         tar)])
    return img.layout


def test_missing_end_of_archive_blocks_are_accepted_with_a_warning(tmp_path: Path) -> None:
    tar = layer_tar([("file", "etc/os-release", b"ID=debian\n")])
    body = tar.rstrip(b"\x00")
    body += b"\x00" * (-len(body) % 512)  # keep the member's padding, drop the end-of-archive blocks
    layout = _raw_image(tmp_path, body)
    with open_source(f"oci-dir:{layout}") as src:
        assert src.open_view(lambda p: True).read_bytes("etc/os-release") == b"ID=debian\n"
        assert "no end-of-archive blocks" in src.info().metadata["warnings"][0]


def test_layer_cut_mid_file_is_refused(tmp_path: Path) -> None:
    tar = layer_tar([("file", "big", b"A" * 5000), ("file", "after", b"b")])
    layout = _raw_image(tmp_path, tar[: 512 + 2000])
    with pytest.raises(SourceError, match=r"truncated inside big.*cut short"):
        scan(f"oci-dir:{layout}")
    layout2 = _raw_image(tmp_path / "h", tar[:700])  # cut inside the second header block
    with pytest.raises(SourceError, match="truncated"):
        scan(f"oci-dir:{layout2}")


def test_wrong_layer_digest_is_refused_naming_the_blob(tmp_path: Path) -> None:
    img = build_image(tmp_path / "img", [Layer([("file", "f", b"hello")], compression="none")])
    blob = img.layout / "blobs" / "sha256" / img.layer_digests[0].split(":")[1]
    data = bytearray(blob.read_bytes())
    data[600] ^= 1  # same size, one bit flipped inside the file body
    blob.write_bytes(bytes(data))
    with pytest.raises(SourceError, match=rf"blob {img.layer_digests[0]}: digest mismatch"):
        scan(f"oci-dir:{img.layout}")


def test_cli_refuses_a_tampered_layer_unless_told_not_to_verify(tmp_path: Path) -> None:
    # The CLI default verifies; --no-verify (speed on big local archives) trades that check away knowingly.
    from typer.testing import CliRunner

    from vulnhound.cli.main import app

    img = build_image(tmp_path / "img", [Layer([("file", "etc/os-release", b"ID=alpine\n")], compression="none")])
    blob = img.layout / "blobs" / "sha256" / img.layer_digests[0].split(":")[1]
    data = bytearray(blob.read_bytes())
    data[600] ^= 1
    blob.write_bytes(bytes(data))
    refused = CliRunner().invoke(app, ["sbom", f"oci-dir:{img.layout}", "-f", "json", "-q"])
    assert refused.exit_code == 2 and "digest mismatch" in refused.output
    accepted = CliRunner().invoke(app, ["sbom", f"oci-dir:{img.layout}", "-f", "json", "-q", "--no-verify"])
    assert accepted.exit_code == 0, accepted.output
    assert json.loads(accepted.stdout)["os"]["id"] == "alpine"


def test_wrong_config_digest_is_refused(tmp_path: Path) -> None:
    img = build_image(tmp_path / "img", [Layer([("file", "f", b"hello")])])
    cfg = img.layout / "blobs" / "sha256" / img.config_digest.split(":")[1]
    cfg.write_text(cfg.read_text().replace('"amd64"', '"arm64"'))
    with pytest.raises(SourceError, match="config blob: digest mismatch"):
        open_source(f"oci-dir:{img.layout}")


def _zeros_bomb(size: int) -> bytes:
    """A gzip'd tar holding one file of ``size`` zero bytes, built without holding the tar in memory."""
    info = tarfile.TarInfo("zeros")
    info.size = size
    header = info.tobuf(format=tarfile.GNU_FORMAT)
    comp = zlib.compressobj(1, zlib.DEFLATED, 31)
    out = io.BytesIO()
    chunk = b"\x00" * (1 << 20)
    for piece in (header, *([chunk] * (size // len(chunk))), b"\x00" * 1024):
        out.write(comp.compress(piece))
    out.write(comp.flush())
    return out.getvalue()


def test_decompression_bomb_is_refused_after_the_limit(tmp_path: Path) -> None:
    blob = _zeros_bomb(64 << 20)
    assert len(blob) < 400_000
    img = build_image(tmp_path / "img", [], raw_layers=[(blob, b"")])
    config_path = img.layout / "blobs" / "sha256" / img.config_digest.split(":")[1]
    assert config_path.exists()
    with pytest.raises(SourceError, match="decompression-bomb limit"):
        scan(f"oci-dir:{img.layout}", max_image_bytes=16 << 20)
    src = OCILayoutSource(str(img.layout), limits=Limits(ratio_floor=8 << 20, max_ratio=50))
    with src, pytest.raises(SourceError, match="a decompression bomb"):
        src.open_view(lambda p: False)


def test_manifest_referencing_a_missing_blob(tmp_path: Path) -> None:
    img = build_image(tmp_path / "img", [Layer([("file", "f", b"1")]), Layer([("file", "g", b"2")])])
    (img.layout / "blobs" / "sha256" / img.layer_digests[1].split(":")[1]).unlink()
    with pytest.raises(SourceError, match=rf"references layer blob {img.layer_digests[1]}, which is missing"):
        open_source(f"oci-dir:{img.layout}")
    (img.layout / "blobs" / "sha256" / img.config_digest.split(":")[1]).unlink()
    with pytest.raises(SourceError, match=r"config blob .* is missing"):
        open_source(f"oci-dir:{img.layout}")


def test_hostile_digest_never_becomes_a_path(tmp_path: Path) -> None:
    img = build_image(tmp_path / "img", [Layer([("file", "f", b"1")])])
    index = json.loads((img.layout / "index.json").read_text())
    index["manifests"][0]["digest"] = "sha256:../../../../etc/passwd"
    (img.layout / "index.json").write_text(json.dumps(index))
    with pytest.raises(SourceError, match="invalid or unsupported digest"):
        open_source(f"oci-dir:{img.layout}")


def test_garbage_layer_and_corrupt_gzip(tmp_path: Path) -> None:
    junk = b"this is not a tar archive at all" * 40
    with pytest.raises(SourceError, match="corrupt tar header"):
        scan(f"oci-dir:{_raw_image(tmp_path / 'a', junk)}")
    good = gzip.compress(layer_tar([("file", "f", b"x" * 3000)]), mtime=0)
    bad = good[:20] + bytes(b ^ 0x5A for b in good[20:60]) + good[60:]
    with pytest.raises(SourceError, match=r"corrupt gzip data|truncated|corrupt tar"):
        scan(f"oci-dir:{_raw_image(tmp_path / 'b', layer_tar([('file', 'f', b'x' * 3000)]), blob=bad)}")


def test_docker_archive_layer_not_matching_its_diff_id(tmp_path: Path) -> None:
    tar_a = layer_tar([("file", "f", b"real")])
    tar_b = layer_tar([("file", "f", b"fake")])
    config = json.dumps({"rootfs": {"type": "layers", "diff_ids": [sha(tar_a)]}}).encode()
    archive = tmp_path / "d.tar"
    with tarfile.open(archive, "w") as tf:
        for name, data in (("layer.tar", tar_b), ("config.json", config),
                           ("manifest.json", json.dumps([{"Config": "config.json", "RepoTags": ["x:1"],
                                                          "Layers": ["layer.tar"]}]).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    with pytest.raises(SourceError, match="not the diff ID"):
        scan(f"docker-archive:{archive}")
    assert scan(f"docker-archive:{archive}", verify_digests=False) == {"f": b"fake"}


def test_too_many_entries_is_refused(tmp_path: Path) -> None:
    from vulnhound.sources.content import ContentStore
    from vulnhound.sources.layered import ImageFS
    from vulnhound.sources.tarstream import TarReader

    tar = layer_tar([("file", f"f{i}", b"") for i in range(50)])

    class Body:
        def __init__(self) -> None:
            self.buf = io.BytesIO(tar)

        def read(self, n: int) -> bytes:
            return self.buf.read(n)

        def skip(self, n: int) -> int:
            return len(self.buf.read(n))

    store = ContentStore()
    fs = ImageFS(["sha256:" + "1" * 64], store, max_entries=20)
    with pytest.raises(SourceError, match="more than 20 entries"):
        fs.apply(0, TarReader(Body(), "t"), lambda p: False)
    store.close()
