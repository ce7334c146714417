"""Archive digests of ``zip:``/``function:`` sources are hashed on a thread while the scan runs: the result and the
metadata's key order must be what hashing up front gave."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from vulnhound.inventory.build import build_inventory
from vulnhound.sources import mapped
from vulnhound.sources.resolve import SourceOptions, open_source

CASES = Path(__file__).parent / "cases"


def sha(path: Path) -> str:
    return "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()


def test_function_digests_and_metadata_order() -> None:
    app, layers = CASES / "function" / "app.zip", [CASES / "function" / "layer1.zip", CASES / "function" / "layer2.zip"]
    with open_source(f"function:{app}", SourceOptions(layers=[str(p) for p in layers], runtime="python3.12")) as src:
        inv = build_inventory(src)
    assert inv.source.digest == sha(app)
    assert inv.source.metadata["layers"] == [{"path": str(p), "digest": sha(p)} for p in layers]
    assert list(inv.source.metadata)[:3] == ["runtime", "layout", "layers"]


def test_unsafe_names_come_after_the_layers(tmp_path: Path) -> None:
    app = tmp_path / "app.zip"
    with zipfile.ZipFile(app, "w") as zf:
        zf.writestr("../escape.txt", b"x")
        zf.writestr("ok.txt", b"y")
    with open_source(f"function:{app}") as src:
        inv = build_inventory(src)
    assert list(inv.source.metadata) == ["layout", "layers", "unsafe_names"]
    assert inv.source.digest == sha(app)


@pytest.mark.parametrize("size", [0, 1, 4095, 4096, 10_000, 65_537])
def test_sha256_file_in_small_chunks(tmp_path: Path, size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mapped, "HASH_CHUNK", 4096)  # many chunks, pages dropped after each
    f = tmp_path / "f.bin"
    f.write_bytes(bytes(range(256)) * (size // 256) + b"z" * (size % 256))
    assert mapped.sha256_file(str(f)) == sha(f)


def test_a_vanished_archive_is_an_error_when_the_digest_is_asked_for(tmp_path: Path) -> None:
    digests = mapped.BackgroundDigests([str(tmp_path / "gone.zip")])
    with pytest.raises(FileNotFoundError):
        digests.result()
