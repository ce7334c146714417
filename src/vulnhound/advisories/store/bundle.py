"""Offline bundles: a tar of a consistent SQLite snapshot plus a checksum manifest, verified and swapped in atomically.

For air-gapped hosts: ``export_bundle`` on a connected machine, ``import_bundle`` on the offline one. Only the
SQLite backend is bundled (PostgreSQL has pg_dump).
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from vulnhound.advisories.store.engine import head_revision, open_engine, resolve_url, sqlite_path

FORMAT = "vulnhound-kb-bundle/1"
DB_MEMBER = "vulnhound.db"
MANIFEST = "manifest.json"


class BundleError(Exception):
    """A bundle that is missing, malformed or fails verification; the current database is left untouched."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _require_sqlite(db: str | None) -> Path:
    path = sqlite_path(resolve_url(db))
    if path is None:
        raise BundleError("bundles hold a SQLite database; use pg_dump/pg_restore for PostgreSQL")
    return path


def export_bundle(db: str | None, dest: Path) -> dict[str, Any]:
    """Write ``dest`` (tar.gz): a backup-API snapshot of the database and its manifest. Returns the manifest."""
    src = _require_sqlite(db)
    open_engine(db).dispose()  # creates/migrates, so an empty store still exports a valid bundle
    with tempfile.TemporaryDirectory(prefix="vulnhound-bundle-", dir=dest.parent) as tmp:
        snap = Path(tmp) / DB_MEMBER
        # The backup API copies a consistent snapshot even while an update is writing.
        with sqlite3.connect(src) as live, sqlite3.connect(snap) as out:
            live.backup(out)
        with sqlite3.connect(snap) as out:
            out.execute("PRAGMA journal_mode=DELETE")
        manifest = {
            "format": FORMAT, "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "schema_revision": head_revision(),
            "files": {DB_MEMBER: {"sha256": _sha256(snap), "size": snap.stat().st_size}},
        }
        (Path(tmp) / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        part = dest.with_name(dest.name + ".part")
        with tarfile.open(part, "w:gz", compresslevel=6) as tar:
            tar.add(Path(tmp) / MANIFEST, MANIFEST)
            tar.add(snap, DB_MEMBER)
        os.replace(part, dest)
    return manifest


def import_bundle(db: str | None, bundle: Path) -> dict[str, Any]:
    """Verify ``bundle`` and atomically replace the database with its snapshot. Returns the manifest."""
    target = _require_sqlite(db)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="vulnhound-bundle-", dir=target.parent) as tmp:
        staged = _extract_verified(bundle, Path(tmp))
        if target.exists():
            # Fold the old WAL into the old file first: a leftover WAL must never be replayed onto the new file.
            with sqlite3.connect(target) as old:
                old.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        os.replace(staged, target)
        for suffix in ("-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
    open_engine(db).dispose()  # newer code may migrate an older bundle forward
    return _read_manifest_only(bundle)


def _read_manifest_only(bundle: Path) -> dict[str, Any]:
    with tarfile.open(bundle) as tar:
        fh = tar.extractfile(MANIFEST)
        assert fh is not None
        data: dict[str, Any] = json.loads(fh.read())
    return data


def _extract_verified(bundle: Path, into: Path) -> Path:
    try:
        with tarfile.open(bundle) as tar:
            names = {m.name: m for m in tar.getmembers()}
            if MANIFEST not in names or DB_MEMBER not in names:
                raise BundleError(f"{bundle}: not a vulnhound bundle (needs {MANIFEST} and {DB_MEMBER})")
            tar.extractall(into, members=[names[MANIFEST], names[DB_MEMBER]], filter="data")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise BundleError(f"{bundle}: unreadable bundle: {exc}") from None
    try:
        manifest = json.loads((into / MANIFEST).read_text(encoding="utf-8"))
        expect = manifest["files"][DB_MEMBER]
    except (ValueError, KeyError, TypeError) as exc:
        raise BundleError(f"{bundle}: bad manifest: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BundleError(f"{bundle}: unknown bundle format {manifest.get('format')!r}")
    staged = into / DB_MEMBER
    if staged.stat().st_size != expect.get("size") or _sha256(staged) != expect.get("sha256"):
        raise BundleError(f"{bundle}: checksum mismatch for {DB_MEMBER}; database left unchanged")
    with sqlite3.connect(staged) as conn:
        ok = conn.execute("PRAGMA quick_check").fetchone()
    if not ok or ok[0] != "ok":
        raise BundleError(f"{bundle}: database in bundle fails integrity check")
    return staged
