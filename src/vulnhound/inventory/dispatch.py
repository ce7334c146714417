"""Route each path of a view to the catalogers that want it: an index over the catalogers' ``WantHints`` picks a
few candidates by dict lookups, and only those candidates' ``wants`` run (not every cataloger for every path)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from vulnhound.catalogers.interface import Cataloger


class Dispatcher:
    """Built once per scan from the cataloger list; ``route`` gives the catalogers whose ``wants`` accepts a path."""

    def __init__(self, cats: Sequence[Cataloger]) -> None:
        self.cats = list(cats)
        self.by_base: dict[str, list[Cataloger]] = {}
        self.by_ext: dict[str, list[Cataloger]] = {}
        self.no_ext: list[Cataloger] = []
        self.by_prefix: list[tuple[str, Cataloger]] = []
        self.always: list[Cataloger] = []  # no hints: asked about every path
        for c in self.cats:
            h = c.hints
            if h is None:
                self.always.append(c)
                continue
            for b in h.basenames:
                _add(self.by_base.setdefault(b, []), c)
            for e in h.extensions:
                _add(self.by_ext.setdefault(e.lower(), []), c)
            if h.no_extension:
                self.no_ext.append(c)
            self.by_prefix.extend((p, c) for p in h.prefixes)
        self.prefixes = tuple(p for p, _ in self.by_prefix)
        self.order = {id(c): i for i, c in enumerate(self.cats)}

    def candidates(self, path: str) -> list[Cataloger]:
        """Catalogers whose hints admit ``path``, in registry order, each once (``wants`` not yet asked).
        The list returned may be the index's own: do not change it."""
        base = path[path.rfind("/") + 1 :]
        dot = base.rfind(".")
        parts: list[list[Cataloger]] = []
        hit = self.by_base.get(base)
        if hit:
            parts.append(hit)
        if dot >= 0:
            hit = self.by_ext.get(base[dot:].lower())
            if hit:
                parts.append(hit)
        elif self.no_ext:
            parts.append(self.no_ext)
        if self.prefixes and path.startswith(self.prefixes):
            prefixed: list[Cataloger] = []
            for p, c in self.by_prefix:
                if path.startswith(p):
                    _add(prefixed, c)
            parts.append(prefixed)
        if self.always:
            parts.append(self.always)
        if len(parts) <= 1:
            return parts[0] if parts else []
        merged = {id(c): c for part in parts for c in part}
        return sorted(merged.values(), key=lambda c: self.order[id(c)])

    def route(self, path: str) -> list[Cataloger]:
        """The catalogers that want ``path``."""
        return [c for c in self.candidates(path) if c.wants(path)]

    def wanted(self, path: str) -> bool:
        """Does any cataloger want ``path``? (the capture filter of image views)"""
        return any(c.wants(path) for c in self.candidates(path))

    def buckets(self, paths: Iterable[str]) -> dict[str, list[str]]:
        """Cataloger name → the paths it wants, in the order given."""
        out: dict[str, list[str]] = {c.name: [] for c in self.cats}
        for path in paths:
            for c in self.candidates(path):
                if c.wants(path):
                    out[c.name].append(path)
        return out


def _add(cats: list[Cataloger], c: Cataloger) -> None:
    if all(x is not c for x in cats):
        cats.append(c)
