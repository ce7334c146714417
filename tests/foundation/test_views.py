"""The directory view never leaves its root, whatever the symlinks say."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vulnhound.sources.directory import DirView
from vulnhound.sources.interface import BytesView, ViewError, normalize


def test_normalize_never_climbs_above_root() -> None:
    assert normalize("/../../etc/passwd") == "etc/passwd"
    assert normalize("a/./b/../c") == "a/c"
    assert normalize("a/.b/..c/...") == "a/.b/..c/..."
    assert normalize("a\\..\\b") == "b"


def _reference_normalize(path: str) -> str:
    parts: list[str] = []
    for part in path.replace("\\", "/").split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if parts:
                parts.pop()
            continue
        parts.append(part)
    return "/".join(parts)


@given(st.lists(st.sampled_from(["a", "b", ".", "..", "...", ".a", "a.", "/", "\\", "x.py", ".wh..wh..opq", ""]),
                max_size=8))
def test_normalize_fast_path_agrees_with_the_full_walk(pieces: list[str]) -> None:
    path = "".join(pieces)
    assert normalize(path) == _reference_normalize(path)


def test_dir_view_confines_absolute_and_relative_links(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").write_text("ID=debian\n")
    (root / "abs").symlink_to("/etc/os-release")  # means ROOT/etc/os-release
    (root / "up").symlink_to("../../../../etc/hostname")  # clamps at the root: ROOT/etc/hostname
    (root / "loop").symlink_to("loop")
    view = DirView(str(root))
    assert view.read_text("abs") == "ID=debian\n"
    with pytest.raises(FileNotFoundError):
        view.open("up")
    with pytest.raises(ViewError):
        view.open("loop")
    assert {m.path for m in view.iter_files()} == {"etc/os-release", "abs", "up", "loop"}
    assert os.path.exists("/etc/hostname")  # the host file exists, yet the view did not reach it


def test_bytes_view_resolves_links() -> None:
    view = BytesView({"usr/lib/os-release": b"ID=alpine\n"}, {"etc/os-release": "../usr/lib/os-release"})
    assert view.read_bytes("etc/os-release") == b"ID=alpine\n"
