"""The pieces under the image sources: tar header reading, content spooling, host pseudo-filesystem skipping."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from imagebuild import Layer, build_image, to_docker_archive

from vulnhound.sources.content import ContentStore
from vulnhound.sources.directory import DirSource, pseudo_mounts
from vulnhound.sources.resolve import open_source
from vulnhound.sources.tarstream import TarError, TarReader


class _Bytes:
    def __init__(self, data: bytes) -> None:
        self.buf = io.BytesIO(data)

    def read(self, n: int) -> bytes:
        return self.buf.read(n)

    def skip(self, n: int) -> int:
        return len(self.buf.read(n))


def _tar(fmt: int, members: list[tuple[str, bytes]], long_link: bool = True) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as tf:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        if long_link:
            link = tarfile.TarInfo("l" * 150)
            link.type = tarfile.SYMTYPE
            link.linkname = "t" * 150
            tf.addfile(link)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
def test_long_names_in_every_tar_dialect(fmt: int) -> None:
    long_dir = "d" * 120 + "/" + "e" * 60
    members = [(f"{long_dir}/file.txt", b"hello"), ("ünïcode/naïve", b"x" * 1000)]
    ustar = fmt == tarfile.USTAR_FORMAT  # splits long names into prefix + name; no long link names
    data = _tar(fmt, members[:1] if ustar else members, long_link=not ustar)
    reader = TarReader(_Bytes(data), "t")
    seen = {}
    for e in reader:
        seen[e.name] = (e.kind, reader.read_body(e.size) if e.kind == "file" else e.linkname)
    assert seen[f"{long_dir}/file.txt"] == ("file", b"hello")
    if not ustar:
        assert seen["l" * 150] == ("symlink", "t" * 150)
        assert seen["ünïcode/naïve"] == ("file", b"x" * 1000)
    assert not reader.missing_end_blocks


def test_partial_body_reads_and_skips_stay_aligned() -> None:
    data = _tar(tarfile.GNU_FORMAT, [("a", b"A" * 700), ("b", b"B" * 3)])
    reader = TarReader(_Bytes(data), "t")
    got = []
    for e in reader:
        if e.kind == "file":
            got.append((e.name, reader.read_body(2)))  # read a little, the rest is skipped
    assert got == [("a", b"AA"), ("b", b"BB")]


def test_bad_checksum_is_a_tar_error() -> None:
    data = bytearray(_tar(tarfile.GNU_FORMAT, [("a", b"x")]))
    data[0] ^= 0x20
    with pytest.raises(TarError, match="bad checksum"):
        list(TarReader(_Bytes(bytes(data)), "t"))


@pytest.mark.parametrize("how", ["gzip", "none", "docker-archive"])
def test_large_wanted_files_spool_or_stay_in_place_and_seek(tmp_path: Path, how: str) -> None:
    """Above the in-memory threshold, bodies of compressed layers spool to disk; bodies of uncompressed blobs
    on disk are read where they lie (also inside an archive)."""
    big = bytes(range(256)) * (12 * 1024)  # 3 MiB
    img = build_image(tmp_path / "img", [Layer([("file", "usr/share/big.jar", big), ("file", "small", b"s")],
                                               compression="gzip" if how == "gzip" else "none")])
    target = f"oci-dir:{img.layout}"
    if how == "docker-archive":
        target = f"docker-archive:{to_docker_archive(img.layout, 'latest', tmp_path / 'd.tar')}"
    with open_source(target) as src:
        view = src.open_view(lambda p: True)
        with view.open("usr/share/big.jar") as fh:
            fh.seek(-256, io.SEEK_END)
            assert fh.read() == bytes(range(256))
            fh.seek(1000)
            assert fh.read(3) == big[1000:1003]
        assert view.read_bytes("usr/share/big.jar") == big
        with view.local_path("usr/share/big.jar") as p:
            assert Path(p).read_bytes() == big
        assert src.info().metadata["captured_bytes"] == len(big) + 1


def test_content_store_budget_and_cleanup() -> None:
    store = ContentStore(memory_budget=10)

    class Body:
        def __init__(self, data: bytes) -> None:
            self.data = io.BytesIO(data)

        def read_body(self, n: int) -> bytes:
            return self.data.read(n)

    a = store.put(Body(b"12345678"), 8)
    b = store.put(Body(b"abcdefgh"), 8)  # over the budget: spooled
    assert isinstance(a, bytes) and not isinstance(b, bytes)
    assert store.open(b).read() == b"abcdefgh"
    spool_dir = store._dir
    assert spool_dir is not None and Path(spool_dir).is_dir()
    store.close()
    assert not Path(spool_dir).exists()


def test_host_skips_pseudo_filesystems(tmp_path: Path) -> None:
    mounts = tmp_path / "mounts"
    root = tmp_path / "root"
    mounts.write_text(f"proc {root}/proc proc rw 0 0\nsysfs {root}/sys sysfs rw 0 0\n"
                      f"/dev/sda1 {root}/data ext4 rw 0 0\ncgroup2 {root}/odd\\040dir cgroup2 rw 0 0\n"
                      "proc /elsewhere/proc proc rw 0 0\n")
    assert pseudo_mounts(str(root), str(mounts)) == {"proc", "sys", "odd dir"}
    for d in ("proc/1", "srv/app", "tmp"):
        (root / d).mkdir(parents=True)
        (root / d / "f").write_text("x")
    src = DirSource(str(root), kind="host")
    paths = {m.path for m in src.open_view(lambda p: True).iter_files()}
    assert "srv/app/f" in paths and "proc/1/f" not in paths and "tmp/f" not in paths


def test_docker_archive_with_gzip_layers_and_linked_members(tmp_path: Path) -> None:
    """Newer ``docker save`` compresses layers and links duplicate layer members; both must read."""
    import gzip
    import json

    from imagebuild import layer_tar, sha

    tar = layer_tar([("file", "etc/os-release", b"ID=debian\n")])
    config = json.dumps({"rootfs": {"type": "layers", "diff_ids": [sha(tar), sha(tar)]}}).encode()
    archive = tmp_path / "d.tar"
    with tarfile.open(archive, "w") as tf:
        for name, data in (("a/layer.tar.gz", gzip.compress(tar, mtime=0)), ("cfg.json", config),
                           ("manifest.json", json.dumps([{"Config": "cfg.json", "RepoTags": ["x:1"],
                                                          "Layers": ["a/layer.tar.gz", "b/layer.tar"]}]).encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo("b/layer.tar")
        link.type = tarfile.SYMTYPE
        link.linkname = "../a/layer.tar.gz"
        tf.addfile(link)
    with open_source(f"docker-archive:{archive}:x:1") as src:
        view = src.open_view(lambda p: True)
        assert view.read_bytes("etc/os-release") == b"ID=debian\n"
        assert list(view.layer_history("etc/os-release")) == [sha(tar), sha(tar)]  # both layers wrote it
        assert src.info().repo_tags == ("x:1",)


_SAMPLE = _tar(tarfile.PAX_FORMAT, [("d/" + "x" * 120 + "/f", b"A" * 700), ("g", b"B" * 3)])


@settings(max_examples=150, deadline=None)
@given(cut=st.integers(0, len(_SAMPLE)), flips=st.lists(st.tuples(st.integers(0, len(_SAMPLE) - 1),
                                                                   st.integers(1, 255)), max_size=4))
def test_damaged_tars_fail_only_with_source_errors(cut: int, flips: list[tuple[int, int]]) -> None:
    from vulnhound.sources.content import ContentStore
    from vulnhound.sources.interface import SourceError
    from vulnhound.sources.layered import ImageFS

    data = bytearray(_SAMPLE[:cut])
    for pos, x in flips:
        if pos < len(data):
            data[pos] ^= x
    store = ContentStore()
    fs = ImageFS(["sha256:" + "0" * 64], store)
    try:
        fs.apply(0, TarReader(_Bytes(bytes(data)), "t"), lambda p: True)
    except SourceError:
        pass
    finally:
        store.close()
