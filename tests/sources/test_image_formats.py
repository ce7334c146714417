"""The same layered content gives the same squashed filesystem as a directory, an OCI layout, an OCI archive,
a docker-archive and a registry pull; history, per-layer views, platform and reference choice."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from imagebuild import BuiltImage, Layer, apply_to_dir, build_image, skopeo, to_docker_archive, to_oci_archive

from vulnhound.sources.interface import FileView, SourceError, ViewError
from vulnhound.sources.resolve import SourceOptions, detect_kind, open_source

CASES = Path(__file__).parent / "cases"

LAYERS = [
    Layer([("dir", "etc"), ("file", "usr/lib/os-release", b"ID=debian\nVERSION_ID=12\n"),
           ("symlink", "etc/os-release", "../usr/lib/os-release"),
           ("file", "a/b/c.txt", b"c0"), ("file", "a/b/d/e.txt", b"e0"), ("file", "a/keep", b"k0"),
           ("file", "var/lib/dpkg/status", b"Package: x\n"), ("file", "var/lib/other/x", b"x"),
           ("file", "opt/app/one", b"one0"), ("symlink", "etc/alt", "/a/keep")]),
    Layer([("whiteout", "a/b"), ("opaque", "var/lib"), ("file", "var/lib/new", b"new1"),
           ("hardlink", "hl", "usr/lib/os-release"), ("file", "opt/app/one", b"one1"),
           ("whiteout", "etc/never-existed")], compression="none"),
    Layer([("file", "a/keep", b"k2"), ("file", "a/b/c.txt", b"c2"),
           ("symlink", "loop1", "loop2"), ("symlink", "loop2", "loop1"),
           ("symlink", "esc", "../../../../etc/passwd")]),
]


def squashed(view: FileView) -> dict[str, str]:
    """path → "sha256 of content" for files and hard links, "-> target" for symlinks."""
    out: dict[str, str] = {}
    for m in view.iter_files():
        if m.kind == "symlink":
            out[m.path] = f"-> {m.link_target}"
        else:
            out[m.path] = hashlib.sha256(view.read_bytes(m.path)).hexdigest()[:16]
    return dict(sorted(out.items()))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuiltImage]:
    base = tmp_path_factory.mktemp("formats")
    img = build_image(base / "layout", LAYERS, ref="v1")
    return base, img


def test_expected_squash_matches_reference_dir(built: tuple[Path, BuiltImage]) -> None:
    base, _ = built
    expected = json.loads((CASES / "squash" / "expected.json").read_text())
    root = apply_to_dir(LAYERS, base / "rootfs")
    with open_source(f"dir:{root}") as src:
        assert squashed(src.open_view(lambda p: True)) == expected


@pytest.mark.network_tools
def test_all_formats_squash_alike(built: tuple[Path, BuiltImage], local_registry: str) -> None:
    base, img = built
    expected = json.loads((CASES / "squash" / "expected.json").read_text())
    oa = to_oci_archive(img.layout, "v1", base / "oci.tar")
    da = to_docker_archive(img.layout, "v1", base / "docker.tar")
    skopeo("copy", "-q", "--dest-tls-verify=false", f"oci:{img.layout}:v1", f"docker://{local_registry}/t/fmt:v1")
    targets = [f"oci-dir:{img.layout}", f"oci-archive:{oa}", f"docker-archive:{da}",
               f"registry:{local_registry}/t/fmt:v1"]
    for target in targets:
        with open_source(target, SourceOptions(insecure=True)) as src:
            view = src.open_view(lambda p: True)
            assert squashed(view) == expected, target
            info = src.info()
            assert [lay.diff_id for lay in info.layers] == img.diff_ids, target
            assert info.layers[0].created_by == "layer 0"
            assert all(lay.digest and lay.media_type and lay.size for lay in info.layers), target
            if target.startswith("docker-archive"):  # uncompressed layers: the blob digest is the diff ID
                assert [lay.digest for lay in info.layers] == img.diff_ids
            assert view.meta("a/keep") is not None and view.meta("a/keep").layer == img.diff_ids[2]  # type: ignore[union-attr]
    with open_source(f"oci-dir:{img.layout}") as src:
        assert src.info().digest is None or src.info().digest == img.manifest_digest
        src.open_view(lambda p: False)
        assert src.info().digest == img.manifest_digest


def test_history_and_views_at_each_layer(built: tuple[Path, BuiltImage]) -> None:
    _, img = built
    l0, l1, l2 = img.diff_ids
    with open_source(f"oci-dir:{img.layout}") as src:
        view = src.open_view(lambda p: p.endswith((".txt", "status", "keep")))
        assert list(view.layer_history("a/keep")) == [l0, l2]
        assert list(view.layer_history("a/b/c.txt")) == [l0, l1, l2]  # written, whited out, written again
        assert list(view.layers()) == [l0, l1, l2]
        v0, v1 = view.at_layer(l0), view.at_layer(l1)
        assert v0.read_bytes("a/keep") == b"k0" and view.read_bytes("a/keep") == b"k2"
        assert v0.read_bytes("var/lib/dpkg/status") == b"Package: x\n"
        assert v1.meta("var/lib/dpkg/status") is None and v1.meta("a/b/d/e.txt") is None
        assert v1.meta("a/b") is None and view.meta("a/b") is not None
        assert view.meta("a/b/d") is None  # the recreated dir does not bring back lower children
        assert view.listdir("var/lib") == ["new"]
        assert v0.listdir("var/lib") == ["dpkg", "other"]
        with pytest.raises(ViewError):
            view.read_bytes("opt/app/one")  # not wanted: metadata only
        with pytest.raises(ViewError):
            view.open("loop1")
        with pytest.raises(FileNotFoundError):
            view.open("esc")  # resolves inside the root, where there is no etc/passwd


def test_wanted_links_to_unwanted_targets_get_a_second_pass(built: tuple[Path, BuiltImage]) -> None:
    _, img = built
    with open_source(f"oci-dir:{img.layout}") as src:
        view = src.open_view(lambda p: p in ("etc/os-release", "hl", "etc/alt"))
        assert view.read_bytes("etc/os-release") == b"ID=debian\nVERSION_ID=12\n"
        assert view.read_bytes("hl") == b"ID=debian\nVERSION_ID=12\n"
        assert view.read_bytes("etc/alt") == b"k2"
        with pytest.raises(ViewError):
            view.read_bytes("var/lib/new")


def test_zstd_and_uncompressed_layers(tmp_path: Path) -> None:
    layers = [Layer([("file", "etc/os-release", b"ID=alpine\n")], compression="zstd"),
              Layer([("file", "lib/apk/db/installed", b"P:musl\n")], compression="none")]
    img = build_image(tmp_path / "z", layers)
    with open_source(f"oci-dir:{img.layout}") as src:
        view = src.open_view(lambda p: True)
        assert view.read_bytes("lib/apk/db/installed") == b"P:musl\n"
        assert view.read_bytes("etc/os-release") == b"ID=alpine\n"


def _multiarch(tmp_path: Path) -> Path:
    lay = tmp_path / "multi"
    amd = build_image(lay, [Layer([("file", "arch", b"amd64")])], ref="amd", arch="amd64")
    arm = build_image(lay, [Layer([("file", "arch", b"arm64")])], ref="arm", arch="arm64")
    blobs = lay / "blobs" / "sha256"
    descs = []
    for image, arch in ((amd, "amd64"), (arm, "arm64")):
        size = (blobs / image.manifest_digest.split(":")[1]).stat().st_size
        plat = {"os": "linux", "architecture": arch} | ({"variant": "v8"} if arch == "arm64" else {})
        descs.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": image.manifest_digest,
                      "size": size, "platform": plat})
    inner = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                        "manifests": descs}).encode()
    digest = "sha256:" + hashlib.sha256(inner).hexdigest()
    (blobs / digest.split(":")[1]).write_bytes(inner)
    index = {"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest, "size": len(inner),
         "annotations": {"org.opencontainers.image.ref.name": "multi"}}]}
    (lay / "index.json").write_text(json.dumps(index))
    return lay


def test_platform_choice_from_an_index(tmp_path: Path) -> None:
    lay = _multiarch(tmp_path)
    for platform, want in (("linux/amd64", b"amd64"), ("linux/arm64", b"arm64"), ("linux/arm64/v8", b"arm64")):
        with open_source(f"oci-dir:{lay}", SourceOptions(platform=platform)) as src:
            assert src.open_view(lambda p: True).read_bytes("arch") == want
            assert src.info().platform == ("linux/arm64/v8" if want == b"arm64" else "linux/amd64")
    with pytest.raises(SourceError, match=r"no manifest for platform linux/s390x.*linux/amd64"):
        open_source(f"oci-dir:{lay}", SourceOptions(platform="linux/s390x"))


def test_reference_choice_in_a_layout(tmp_path: Path) -> None:
    lay = tmp_path / "two"
    build_image(lay, [Layer([("file", "which", b"one")])], ref="one")
    build_image(lay, [Layer([("file", "which", b"two")])], ref="two")
    with open_source(f"oci-dir:{lay}:two") as src:
        assert src.open_view(lambda p: True).read_bytes("which") == b"two"
        assert src.info().repo_tags == ("two",)
    with pytest.raises(SourceError, match="2 images in the layout"):
        open_source(f"oci-dir:{lay}")
    with pytest.raises(SourceError, match="no image named 'three'"):
        open_source(f"oci-dir:{lay}:three")


@pytest.mark.network_tools
def test_detect_kind(built: tuple[Path, BuiltImage], tmp_path: Path) -> None:
    _, img = built
    oa = to_oci_archive(img.layout, "v1", tmp_path / "o.tar")
    da = to_docker_archive(img.layout, "v1", tmp_path / "d.tar")
    (tmp_path / "f.zip").write_bytes(b"PK\x03\x04rest")
    (tmp_path / "s.json").write_text("{}")
    assert detect_kind(str(img.layout)) == "oci-dir"
    assert detect_kind(str(oa)) == "oci-archive"
    assert detect_kind(str(da)) == "docker-archive"
    assert detect_kind(str(tmp_path)) == "dir"
    assert detect_kind(str(tmp_path / "f.zip")) == "zip"
    assert detect_kind(str(tmp_path / "s.json")) == "sbom"
    assert detect_kind("127.0.0.1:5000/team/app:1.2") == "registry"
    assert detect_kind("ghcr.io/org/app@sha256:" + "0" * 64) == "registry"
    with pytest.raises(SourceError):
        detect_kind(str(tmp_path / "nothing-here"))
    with open_source(str(da)) as src:
        assert src.kind == "docker-archive"
        assert src.info().repo_tags == ("docker.io/test/image:v1",)
