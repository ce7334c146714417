"""Offline bundles: export, verify, atomically replace; a tampered or foreign bundle leaves the database alone."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from vulnhound.advisories.feeds.osv import OsvDirectoryFeed
from vulnhound.advisories.store import KnowledgeBase, import_items, open_engine
from vulnhound.advisories.store.bundle import BundleError, export_bundle, import_bundle


def _filled(db: Path, mirror: Path) -> None:
    engine = open_engine(str(db))
    root = mirror / "pypa-advisory-database"
    feed = OsvDirectoryFeed.from_mirror(root)
    import_items(engine, feed.name, feed.parse(root))
    engine.dispose()


def _records(db: Path) -> int:
    engine = open_engine(str(db))
    try:
        return KnowledgeBase(engine).counts()["vulns"]
    finally:
        engine.dispose()


def test_round_trip_replaces_target(pypa_mirror: Path, tmp_path: Path) -> None:
    src, dst = tmp_path / "src.db", tmp_path / "dst.db"
    _filled(src, pypa_mirror)
    open_engine(str(dst)).dispose()  # an existing (empty) database with its WAL files
    bundle = tmp_path / "kb.tar.gz"
    manifest = export_bundle(str(src), bundle)
    assert manifest["files"]["vulnhound.db"]["size"] > 0 and manifest["schema_revision"]
    import_bundle(str(dst), bundle)
    assert _records(dst) == _records(src) == 5


def _rewrite(bundle: Path, out: Path, *, db_bytes: bytes | None = None, manifest: dict[str, object] | None = None
             ) -> None:
    with tarfile.open(bundle) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    if db_bytes is not None:
        members["vulnhound.db"] = db_bytes
    if manifest is not None:
        members["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(out, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


@pytest.mark.parametrize("damage", ["flipped-byte", "wrong-format", "not-a-tar", "missing-db"])
def test_bad_bundle_is_refused_and_target_kept(pypa_mirror: Path, tmp_path: Path, damage: str) -> None:
    src, dst = tmp_path / "src.db", tmp_path / "dst.db"
    _filled(src, pypa_mirror)
    _filled(dst, pypa_mirror)
    bundle, bad = tmp_path / "kb.tar.gz", tmp_path / "bad.tar.gz"
    manifest = export_bundle(str(src), bundle)
    with tarfile.open(bundle) as tar:
        db_bytes = tar.extractfile("vulnhound.db").read()  # type: ignore[union-attr]
    if damage == "flipped-byte":
        _rewrite(bundle, bad, db_bytes=db_bytes[:5000] + bytes([db_bytes[5000] ^ 1]) + db_bytes[5001:])
    elif damage == "wrong-format":
        _rewrite(bundle, bad, manifest={**manifest, "format": "something-else/9"})
    elif damage == "not-a-tar":
        bad.write_bytes(b"this is not a bundle")
    else:
        with tarfile.open(bad, "w:gz") as tar:
            tar.add(tmp_path / "src.db", "other.db")
    with pytest.raises(BundleError):
        import_bundle(str(dst), bad)
    assert _records(dst) == 5


def test_postgresql_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BundleError, match="pg_dump"):
        export_bundle("postgresql+psycopg://postgres@127.0.0.1:5432/test", tmp_path / "x.tar.gz")
