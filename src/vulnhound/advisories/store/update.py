"""``db update``: run feeds into the store, one operation per source — from upstream URLs or a mirror directory.

Mirror inputs are fingerprinted (path, size, mtime of every file) so an unchanged source is skipped without
parsing; upstream fetches are conditional (ETag / If-Modified-Since, OSV ``modified_id.csv`` cursors).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx
import sqlalchemy as sa

from vulnhound.advisories.feeds.http import FetchError
from vulnhound.advisories.feeds.interface import Feed, FetchState
from vulnhound.advisories.feeds.osv import PARTIAL_MARKER
from vulnhound.advisories.mirror import MirrorPlan, discover
from vulnhound.advisories.model import ParsedItem
from vulnhound.advisories.store import tables as t
from vulnhound.advisories.store.importer import OperationResult, import_items, record_unchanged


@dataclass(slots=True)
class Hooks:
    """Progress callbacks for the CLI (all optional)."""

    begin: Callable[[str, str], None] | None = None  # (source, phase "fetch"|"import")
    items: Callable[[str, int], None] | None = None  # (source, items parsed so far)
    done: Callable[[OperationResult], None] | None = None
    failed: Callable[[str, str], None] | None = None  # (source, error)


def fingerprint(paths: list[Path]) -> str:
    """A cheap identity of mirror inputs: every file's relative path, size and mtime (ns)."""
    h = hashlib.sha256()
    for root in paths:
        h.update(str(root).encode())
        if root.is_file():
            st = root.stat()
            h.update(f"{st.st_size}:{st.st_mtime_ns}\n".encode())
            continue
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(filenames):
                st = os.stat(os.path.join(dirpath, name))
                h.update(f"{dirpath}/{name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def load_state(engine: sa.Engine, source: str) -> tuple[FetchState, str | None]:
    with engine.connect() as conn:
        row = conn.execute(sa.select(t.sources).where(t.sources.c.name == source)).mappings().first()
    if row is None:
        return FetchState(), None
    return FetchState(row["etag"], row["last_modified"], row["cursor"], json.loads(row["extra"])), row["fingerprint"]


def _chain(feed: Feed, paths: list[Path]) -> Iterator[ParsedItem]:
    for p in paths:
        yield from feed.parse(p)


def _failed(name: str, exc: Exception, hooks: Hooks) -> OperationResult:
    msg = f"import failed, previous data kept: {type(exc).__name__}: {exc}"
    if hooks.failed:
        hooks.failed(name, msg)
    return OperationResult(name, None, "failed", description=msg)


def update_from_mirror(engine: sa.Engine, root: Path, only: list[str] | None = None, hooks: Hooks | None = None,
                       plan: MirrorPlan | None = None, force: bool = False) -> list[OperationResult]:
    """Import every feed snapshot found under ``root`` (or those whose source is in ``only``)."""
    hooks = hooks or Hooks()
    plan = plan or discover(root)
    results: list[OperationResult] = []
    for name, (feed, paths) in plan.by_source().items():
        if only and name not in only:
            continue
        fp = fingerprint(paths)
        _state, old_fp = load_state(engine, name)
        desc = "mirror " + ", ".join(p.relative_to(root).as_posix() or "." for p in paths)
        if fp == old_fp and not force:
            record_unchanged(engine, name, desc)
            res = OperationResult(name, None, "unchanged", description=desc)
        else:
            if hooks.begin:
                hooks.begin(name, "import")
            try:
                res = import_items(engine, name, _chain(feed, paths), description=desc, fingerprint=fp,
                                   progress=partial(hooks.items, name) if hooks.items else None)
            except Exception as exc:  # a feed's parser bug must not stop the other sources; data is rolled back
                res = _failed(name, exc, hooks)
        results.append(res)
        if hooks.done:
            hooks.done(res)
    return results


def update_upstream(engine: sa.Engine, feeds: list[Feed], client: httpx.Client, hooks: Hooks | None = None,
                    workdir: Path | None = None) -> list[OperationResult]:
    """Fetch each feed (conditionally) and import what changed; a failed source keeps its previous data."""
    hooks = hooks or Hooks()
    results: list[OperationResult] = []
    for feed in feeds:
        if not feed.url:
            continue  # mirror-only feeds
        state, _fp = load_state(engine, feed.name)
        with tempfile.TemporaryDirectory(prefix="vulnhound-fetch-", dir=workdir) as tmp:
            if hooks.begin:
                hooks.begin(feed.name, "fetch")
            try:
                fetched = feed.fetch(client, Path(tmp) / "snapshot", state)
            except (FetchError, httpx.HTTPError, OSError) as exc:
                if hooks.failed:
                    hooks.failed(feed.name, str(exc))
                results.append(OperationResult(feed.name, None, "failed", description=str(exc)))
                continue
            if fetched.unchanged or fetched.snapshot is None:
                record_unchanged(engine, feed.name, fetched.description, fetched.state)
                res = OperationResult(feed.name, None, "unchanged", description=fetched.description)
            else:
                snap = fetched.snapshot
                is_partial = snap.is_dir() and (snap / PARTIAL_MARKER).exists()
                if hooks.begin:
                    hooks.begin(feed.name, "import")
                try:
                    res = import_items(engine, feed.name, feed.parse(snap), partial=is_partial,
                                       description=fetched.description, state=fetched.state,
                                       progress=partial(hooks.items, feed.name) if hooks.items else None)
                except Exception as exc:  # as above: roll back this source, keep going
                    res = _failed(feed.name, exc, hooks)
        results.append(res)
        if hooks.done:
            hooks.done(res)
    return results
