"""Recognize feed snapshots in a mirror directory by content and layout, asking each registered feed's ``detect``.

Walks at most three levels down; a path some feed claims is not descended into. Reference material that ships
beside feeds in a corpus (format samples, the OSV schema and docs, version-ordering fixtures) is skipped by name.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from vulnhound.advisories.feeds.interface import Feed
from vulnhound.advisories.feeds.registry import load

# Not feeds: upstream-format samples from other projects' tests, the OSV spec, version-ordering cases, docs.
REFERENCE_DIRS: frozenset[str] = frozenset({"format-samples", "osv-schema", "osv-version-fixtures", "osv-docs"})
MAX_DEPTH = 3


@dataclass(slots=True)
class MirrorPlan:
    entries: list[tuple[Feed, Path]] = field(default_factory=list)  # in walk order
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (path, why)

    def by_source(self) -> dict[str, tuple[Feed, list[Path]]]:
        """Entries grouped by source name (two directories of one feed import as one source)."""
        out: dict[str, tuple[Feed, list[Path]]] = {}
        for feed, path in self.entries:
            out.setdefault(feed.name, (feed, []))[1].append(path)
        return out


def _for_path(feed: Feed, path: Path) -> Feed:
    # A feed class may name itself after what it found (OSV directories, per-ecosystem dumps).
    make = getattr(type(feed), "from_mirror", None)
    made = make(path) if callable(make) else feed
    return made if isinstance(made, Feed) else feed


def discover(root: Path, feeds: list[Feed] | None = None) -> MirrorPlan:
    """Which feed reads which path under ``root``."""
    feeds = load() if feeds is None else feeds
    # One probe per feed class: per-ecosystem instances of one class share its detect().
    probes: dict[type[Feed], Feed] = {}
    for f in feeds:
        probes.setdefault(type(f), f)
    plan = MirrorPlan()

    def visit(path: Path, depth: int) -> None:
        claimed = False
        for cls, feed in probes.items():
            try:
                hit = cls.detect(path)
            except (OSError, ValueError):
                hit = False
            if hit:
                plan.entries.append((_for_path(feed, path), path))
                claimed = True
        if claimed or not path.is_dir() or depth >= MAX_DEPTH:
            return
        try:
            children = sorted(os.scandir(path), key=lambda e: e.name)
        except OSError as exc:
            plan.skipped.append((path, f"unreadable: {exc.strerror}"))
            return
        for child in children:
            if child.name.startswith("."):
                continue
            if child.name in REFERENCE_DIRS:
                plan.skipped.append((Path(child.path), "reference material, not a feed"))
                continue
            visit(Path(child.path), depth + 1)

    visit(root, 0)
    return plan
