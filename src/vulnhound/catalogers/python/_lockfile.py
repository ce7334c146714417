"""The shape every Python lock-file cataloger shares: decode TOML or JSON, then walk the document."""

from __future__ import annotations

import json
from abc import abstractmethod
from typing import Any

from vulnhound.catalogers.interface import CatalogResult
from vulnhound.catalogers.python._common import FileCataloger
from vulnhound.sources.interface import FileView


class LockCataloger(FileCataloger):
    """Subclasses say which basenames they read, how to decode (toml/json) and how to walk the document."""

    basenames: frozenset[str] = frozenset()
    decoder = "toml"
    document = "lock file"

    def wants(self, path: str) -> bool:
        return path.rsplit("/", 1)[-1] in self.basenames

    def parse_file(self, view: FileView, path: str, data: bytes, out: CatalogResult) -> None:
        import tomllib  # on first use: ~1.5 ms of start-up that most scans do not need

        text = data.decode("utf-8")
        doc = tomllib.loads(text) if self.decoder == "toml" else json.loads(text)
        if not isinstance(doc, dict):
            raise ValueError("top level is not a table")
        self.parse(doc, path, out)

    @abstractmethod
    def parse(self, doc: dict[str, Any], path: str, out: CatalogResult) -> None:
        """Append the lock's packages (and notes for entries skipped) to ``out``."""

    @staticmethod
    def tables(doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
        """``doc[key]`` as a list of tables; anything else is a malformed lock (raised as ValueError)."""
        value = doc.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ValueError(f"{key!r} is not a list of tables")
        return value
