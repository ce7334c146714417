"""Zip and function sources: in-place reading, Lambda layout with layers, and hostile archives."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from vulnhound.inventory.build import build_inventory
from vulnhound.sources.interface import SourceError, ViewError
from vulnhound.sources.resolve import SourceOptions, open_source
from vulnhound.sources.zipsrc import ZipSource

CASES = Path(__file__).parent / "cases"


def summary(src: ZipSource) -> dict[str, Any]:
    view = src.open_view(lambda p: True)
    inv = build_inventory(src)
    return {
        "files": sorted([m.path, m.kind] for m in view.iter_files()),
        "packages": sorted([p.name, p.version, p.path, p.found_by] for p in inv.packages),
        "metadata": {k: v for k, v in inv.source.metadata.items() if k != "layers"},
    }


def check(case: str, got: dict[str, Any]) -> None:
    expected = CASES / case / "expected.json"
    if os.environ.get("VULNHOUND_UPDATE_EXPECTED") == "1":
        expected.write_text(json.dumps(got, indent=1) + "\n")
    assert got == json.loads(expected.read_text())


def test_function_with_layers_lambda_layout() -> None:
    d = CASES / "function"
    opts = SourceOptions(layers=[str(d / "layer1.zip"), str(d / "layer2.zip")], runtime="python3.12")
    with open_source(f"function:{d / 'app.zip'}", opts) as src:
        assert isinstance(src, ZipSource)
        got = summary(src)
        info = src.info()
    check("function", got)
    assert info.kind == "function" and info.metadata["runtime"] == "python3.12"
    assert info.digest and info.digest.startswith("sha256:") and len(info.metadata["layers"]) == 2
    pkgs = {(p[0], p[1]) for p in got["packages"]}
    assert ("six", "1.16.0") in pkgs and ("six", "1.12.0") not in pkgs  # the later layer's file wins
    assert ("minimist", "0.0.8") in pkgs and ("requests", "2.20.0") in pkgs


def test_zip_keeps_archive_paths() -> None:
    with open_source(f"zip:{CASES / 'function' / 'app.zip'}") as src:
        inv = build_inventory(src)
    assert "requests-2.20.0.dist-info/METADATA" in {p.path for p in inv.packages}
    with open_source(str(CASES / "function" / "app.zip")) as src:  # sniffed by its PK header
        assert src.kind == "zip"


def test_traversal_names_are_never_exposed() -> None:
    with ZipSource(str(CASES / "traversal" / "input.zip")) as src:
        got = summary(src)
        assert sorted(src.info().metadata["unsafe_names"]) == [
            "../evil-1.0.dist-info/METADATA", "/abs-1.0.dist-info/METADATA", "a/../../climb-1.0.dist-info/METADATA"]
    check("traversal", got)
    assert {p[0] for p in got["packages"]} == {"fine", "good"}


def test_symlinks_stay_inside() -> None:
    with ZipSource(str(CASES / "symlinks" / "input.zip")) as src:
        view = src.open_view(lambda p: True)
        assert view.read_bytes("site/alias-2.0.dist-info/METADATA").startswith(b"Metadata-Version")
        for outside in ("out-abs", "out-rel"):
            with pytest.raises(FileNotFoundError):
                view.open(outside)  # /etc/passwd of this machine is never read
        assert not view.exists("out-rel") and not view.exists("out-abs")
        with pytest.raises(ViewError):
            view.open("loop-a")
        got = summary(src)
    check("symlinks", got)


def test_zip_bomb_refused() -> None:
    with pytest.raises(SourceError, match="zip bomb"):
        ZipSource(str(CASES / "bomb" / "input.zip"))


def test_total_size_bound() -> None:
    with pytest.raises(SourceError, match="zip bomb"):
        ZipSource(str(CASES / "function" / "app.zip"), max_total=100)


@pytest.mark.parametrize("name", ["input.zip", "not-a-zip.zip"])
def test_corrupt_archive_refused(name: str) -> None:
    with pytest.raises(SourceError, match="not a readable zip"):
        ZipSource(str(CASES / "corrupt" / name))


def test_empty_archive() -> None:
    with ZipSource(str(CASES / "empty" / "input.zip")) as src:
        got = summary(src)
    assert got["files"] == [] and got["packages"] == []


def test_layers_only_for_functions() -> None:
    with pytest.raises(SourceError):
        ZipSource(str(CASES / "function" / "app.zip"), layers=[str(CASES / "function" / "layer1.zip")])


def test_listdir_and_dirs() -> None:
    with open_source(f"function:{CASES / 'function' / 'app.zip'}") as src:
        view = src.open_view(lambda p: True)
        assert view.listdir("") == ["var"]
        assert "node_modules" in view.listdir("var/task")
        assert view.meta("var/task/node_modules") is not None


def test_corrupt_member_becomes_an_issue() -> None:
    """A member failing its CRC is reported by the cataloger reading it; the other members still count."""
    with ZipSource(str(CASES / "corrupt" / "bad-crc.zip")) as src:
        inv = build_inventory(src)
        with pytest.raises(OSError, match="corrupt zip member"):
            src.open_view(lambda p: True).read_bytes("site/crc-1.0.dist-info/METADATA")
    assert [(p.name, p.version) for p in inv.packages] == [("ok", "1.0")]
    assert [(i.path, i.severity) for i in inv.issues] == [("site/crc-1.0.dist-info/METADATA", "error")]
