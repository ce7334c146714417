"""The one explicit list of advisory feeds. Add a feed here and nowhere else.

Each entry is "module:Name" where Name is a ``Feed`` subclass (instantiated with no arguments) or a zero-argument
callable returning a ``Feed`` or an iterable of them (one OSV dump per ecosystem, for instance).
Conventions the updater (``advisories/store/update.py``) follows: a feed with an empty ``url`` is mirror-only; a feed
class may define ``from_mirror(path) -> Feed`` to name itself after what ``detect`` found; a snapshot directory
holding a ``.partial`` file (``feeds.osv.PARTIAL_MARKER``) is imported as an increment (records absent from it stay).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

from vulnhound.advisories.feeds.interface import Feed

# Strings, so that a feed with a heavy import costs nothing until an update needs it.
FEEDS: tuple[str, ...] = (
    # OSV: per-ecosystem all.zip dumps from osv.dev (upstream) and directories of OSV JSON/YAML (mirrors)
    "vulnhound.advisories.feeds.osv:osv_dump_feeds",
    "vulnhound.advisories.feeds.osv:OsvDirectoryFeed",
    # Distro trackers, native language databases, NVD, KEV, EPSS: add one line each below.
    "vulnhound.advisories.feeds.debian_tracker:DebianTrackerFeed",
    "vulnhound.advisories.feeds.alpine_secdb:AlpineSecdbFeed",
    "vulnhound.advisories.feeds.rustsec:RustSecFeed",
    "vulnhound.advisories.feeds.rubysec:RubySecFeed",
    "vulnhound.advisories.feeds.nodejs_wg:NodejsSecurityWgFeed",
    "vulnhound.advisories.feeds.nvd:NvdFeed",
    "vulnhound.advisories.feeds.kev:KevFeed",
    "vulnhound.advisories.feeds.epss:EpssFeed",
)


def load(names: tuple[str, ...] = FEEDS) -> list[Feed]:
    """Instantiate every registered feed, in registry order."""
    out: list[Feed] = []
    for spec in names:
        module, _, attr = spec.partition(":")
        obj = getattr(importlib.import_module(module), attr)
        if isinstance(obj, type) and issubclass(obj, Feed):
            out.append(obj())
            continue
        made = obj()
        if isinstance(made, Feed):
            out.append(made)
        elif isinstance(made, Iterable):
            out.extend(f for f in made if isinstance(f, Feed))
        else:
            raise TypeError(f"feed registry entry {spec!r} gave {type(made).__name__}, not a Feed")
    return out


def by_name(names: Iterable[str] | None = None) -> list[Feed]:
    """The registered feeds whose ``name`` is in ``names`` (all when None); unknown names raise KeyError."""
    feeds = load()
    if names is None:
        return feeds
    wanted = list(names)
    index = {f.name: f for f in feeds}
    missing = [n for n in wanted if n not in index]
    if missing:
        raise KeyError(f"unknown feed(s): {', '.join(missing)}; known: {', '.join(sorted(index))}")
    return [index[n] for n in wanted]
