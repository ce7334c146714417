"""The shape every Python lock-file cataloger shares: read each file, parse it, turn a parse error into an issue."""

from __future__ import annotations

import json
import tomllib
from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

from vulnhound.catalogers.interface import CatalogContext, Cataloger, CatalogResult
from vulnhound.catalogers.python._common import read_limited
from vulnhound.inventory.model import CatalogIssue
from vulnhound.sources.interface import FileView


class LockCataloger(Cataloger):
    """Subclasses say which basenames they read, how to decode (toml/json) and how to walk the document."""

    basenames: frozenset[str] = frozenset()
    decoder = "toml"

    def wants(self, path: str) -> bool:
        return path.rsplit("/", 1)[-1] in self.basenames

    def catalog(self, view: FileView, paths: Sequence[str], ctx: CatalogContext) -> CatalogResult:
        out = CatalogResult()
        for path in paths:
            data = read_limited(view, path, ctx, self.name, out.issues)
            if data is None:
                continue
            try:
                text = data.decode("utf-8")
                doc = tomllib.loads(text) if self.decoder == "toml" else json.loads(text)
            except (UnicodeDecodeError, tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
                out.issues.append(CatalogIssue(self.name, path, f"malformed {self.decoder}: {exc}"))
                continue
            if not isinstance(doc, dict):
                out.issues.append(CatalogIssue(self.name, path, "malformed lock file: top level is not a table"))
                continue
            try:
                self.parse(doc, path, out)
            except (TypeError, AttributeError, KeyError, ValueError) as exc:
                # A structurally wrong document (a string where a table belongs): report what parsed so far.
                out.issues.append(CatalogIssue(self.name, path, f"malformed lock file: {exc!r}"))
        return out

    @abstractmethod
    def parse(self, doc: dict[str, Any], path: str, out: CatalogResult) -> None:
        """Append the lock's packages (and notes for entries skipped) to ``out``."""

    def note(self, out: CatalogResult, path: str, message: str) -> None:
        out.issues.append(CatalogIssue(self.name, path, message, severity="note"))
