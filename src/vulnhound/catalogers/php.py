"""PHP Composer packages: ``composer.lock`` (``packages`` and ``packages-dev``, the latter marked dev) and the
installed list ``vendor/composer/installed.json`` (Composer 1: a JSON list; Composer 2: ``{"packages": [...],
"dev-package-names": [...]}``). Versions are kept as written (``v5.4.1``); the Packagist scheme drops the ``v``."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from vulnhound.catalogers.interface import CatalogContext, Cataloger, CatalogResult, WantHints
from vulnhound.catalogers.lockfile import NO_DOC, lang_package, load_json
from vulnhound.inventory.model import COMPOSER, CatalogIssue
from vulnhound.inventory.purl import make_purl
from vulnhound.sources.interface import FileView

NAME = "php-composer"
# Composer's package name rule (case-insensitive here: old lock files hold mixed case).
_PACKAGE_NAME = re.compile(r"^[a-z0-9]([_.-]?[a-z0-9]+)*/[a-z0-9](([_.]|-{1,2})?[a-z0-9]+)*$", re.IGNORECASE)


class ComposerCataloger(Cataloger):
    name = NAME
    hints = WantHints(basenames=frozenset({"composer.lock", "installed.json"}))

    def wants(self, path: str) -> bool:
        return path.endswith(("composer.lock", "composer/installed.json")) and (
            path.rsplit("/", 1)[-1] == "composer.lock" or path.endswith("vendor/composer/installed.json"))

    def catalog(self, view: FileView, paths: Sequence[str], ctx: CatalogContext) -> CatalogResult:
        result = CatalogResult()
        for path in paths:
            doc = load_json(view, path, ctx, NAME, result)
            if doc is NO_DOC:
                continue
            lists: list[tuple[Any, bool | None]]
            if path.endswith("composer.lock") and isinstance(doc, dict):
                lists = [(doc.get("packages") or [], False), (doc.get("packages-dev") or [], True)]
            elif isinstance(doc, list):
                lists = [(doc, None)]
            elif isinstance(doc, dict) and isinstance(doc.get("packages"), list):
                lists = [(doc["packages"], None)]
            else:
                result.issues.append(CatalogIssue(NAME, path, "no package list"))
                continue
            listed = doc.get("dev-package-names") if isinstance(doc, dict) else None
            dev_names = {n.lower() for n in listed if isinstance(n, str)} if isinstance(listed, list) else set()
            for entries, dev in lists:
                self._entries(entries, dev, dev_names, path, result)
        return result

    def _entries(self, entries: Any, dev: bool | None, dev_names: set[str], path: str, result: CatalogResult) -> None:
        if not isinstance(entries, list):
            result.issues.append(CatalogIssue(NAME, path, "package list is not a list"))
            return
        for i, e in enumerate(entries):
            name = e.get("name") if isinstance(e, dict) else None
            version = e.get("version") if isinstance(e, dict) else None
            if not isinstance(name, str) or not isinstance(version, str) or not _PACKAGE_NAME.match(name):
                result.issues.append(CatalogIssue(NAME, path, f"entry #{i + 1}: no valid name or version"))
                continue
            name = name.lower()  # Composer names are case-insensitive; Packagist and OSV spell them lowercase
            vendor, _, short = name.rpartition("/")
            licenses = e.get("license")
            pkg = lang_package(name, version, COMPOSER, make_purl(COMPOSER, short, version, vendor or None), NAME,
                               path, "COMPOSER", dev=dev if dev is not None else name in dev_names)
            if isinstance(licenses, str):
                licenses = [licenses]
            if isinstance(licenses, list):
                pkg.licenses = tuple(str(x) for x in licenses)
            result.packages.append(pkg)
