"""Rust crates: ``Cargo.lock`` (v1–v4) and binaries built with cargo-auditable (zlib-compressed JSON in the
``.dep-v0`` section of ELF/PE/Mach-O files).

Crates without a ``source`` (workspace members, path dependencies) are kept, as Trivy and Syft keep them, and
marked ``metadata["local"]``: the matcher may skip them, since a local crate named like a registry crate would
match that crate's advisories. ``"source": "local"`` entries of auditable binaries (the root crate) likewise.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Sequence
from typing import Any

from vulnhound.catalogers.executable import (
    EXECUTABLE_HINTS,
    ExeError,
    find_section,
    open_executable,
    probe,
    read_at,
    unreadable_issue,
    wants_executable,
)
from vulnhound.catalogers.interface import CatalogContext, Cataloger, CatalogResult, WantHints
from vulnhound.catalogers.lockfile import lang_package, read_limited
from vulnhound.inventory.model import CARGO, CatalogIssue, Package
from vulnhound.inventory.purl import make_purl
from vulnhound.sources.interface import FileView

LOCK_NAME = "rust-cargo-lock"
AUDIT_NAME = "rust-cargo-auditable"
MAX_AUDIT_JSON = 16 << 20  # inflated dependency list; real ones are tens of KB
_CRATE_NAME = re.compile(r"^[A-Za-z0-9_-]+$")  # crates.io's charset; others would make misleading PURLs


def _pkg(name: str, version: str, found_by: str, path: str, pm: str, **metadata: Any) -> Package:
    return lang_package(name, version, CARGO, make_purl(CARGO, name, version), found_by, path, pm, **metadata)


class CargoLockCataloger(Cataloger):
    name = LOCK_NAME
    hints = WantHints(basenames=frozenset({"Cargo.lock"}))

    def wants(self, path: str) -> bool:
        return path.endswith("Cargo.lock") and path.rsplit("/", 1)[-1] == "Cargo.lock"

    def catalog(self, view: FileView, paths: Sequence[str], ctx: CatalogContext) -> CatalogResult:
        import tomllib  # on first use: ~1.5 ms of start-up that most scans do not need

        result = CatalogResult()
        for path in paths:
            data = read_limited(view, path, ctx, LOCK_NAME, result)
            if data is None:
                continue
            try:
                doc = tomllib.loads(data.decode("utf-8", errors="replace"))
            except (tomllib.TOMLDecodeError, RecursionError) as exc:
                result.issues.append(CatalogIssue(LOCK_NAME, path, f"not TOML: {exc}"))
                continue
            entries = doc.get("package", [])
            if not isinstance(entries, list):
                result.issues.append(CatalogIssue(LOCK_NAME, path, "[package] is not an array of tables"))
                continue
            for i, entry in enumerate(entries):
                name = entry.get("name") if isinstance(entry, dict) else None
                version = entry.get("version") if isinstance(entry, dict) else None
                if not isinstance(name, str) or not isinstance(version, str) or not _CRATE_NAME.match(name):
                    result.issues.append(CatalogIssue(LOCK_NAME, path, f"[[package]] #{i + 1}: bad name or version"))
                    continue
                source = entry.get("source")
                local = not isinstance(source, str)
                result.packages.append(_pkg(name, version, LOCK_NAME, path, "CARGO", source=None if local else source,
                                            checksum=entry.get("checksum"), local=local or None))
        return result


class CargoAuditableCataloger(Cataloger):
    name = AUDIT_NAME
    hints = EXECUTABLE_HINTS

    def wants(self, path: str) -> bool:
        return wants_executable(path)

    def catalog(self, view: FileView, paths: Sequence[str], ctx: CatalogContext) -> CatalogResult:
        result = CatalogResult()
        for path in paths:
            found = probe(view, path, ctx)
            if found.unreadable is not None:
                if issue := unreadable_issue(found, path, AUDIT_NAME):
                    result.issues.append(issue)
                continue
            if found.fmt is None or found.cut:
                continue  # not an executable, or a cut one: nothing says it was built with cargo-auditable
            sec = find_section(found.sections, ".dep-v0", "__dep_v0")
            if sec is None:
                continue
            try:
                with open_executable(view, path, ctx) as fh:
                    blob = read_at(fh, sec.offset, min(sec.size, MAX_AUDIT_JSON))
            except (ExeError, OSError) as exc:
                result.issues.append(CatalogIssue(AUDIT_NAME, path, f".dep-v0 section unreadable: {exc}"))
                continue
            result.packages.extend(_audit_packages(blob, path, result))
        return result


def _audit_packages(blob: bytes, path: str, result: CatalogResult) -> list[Package]:
    try:
        d = zlib.decompressobj()
        raw = d.decompress(blob, MAX_AUDIT_JSON)
        if d.unconsumed_tail:
            raise ValueError(f"inflates past {MAX_AUDIT_JSON} bytes")
        doc = json.loads(raw)
        entries = doc["packages"]
        if not isinstance(entries, list):
            raise ValueError("packages is not a list")
    except (zlib.error, ValueError, KeyError, TypeError, RecursionError) as exc:
        result.issues.append(CatalogIssue(AUDIT_NAME, path, f".dep-v0 section is not cargo-auditable data: {exc}"))
        return []
    out = []
    for e in entries:
        if (not isinstance(e, dict) or not isinstance(e.get("name"), str) or not _CRATE_NAME.match(e["name"])
                or not isinstance(e.get("version"), str)):
            result.issues.append(CatalogIssue(AUDIT_NAME, path, f"dependency entry without name/version: {e!r:.80}"))
            continue
        local = e.get("source") == "local"
        out.append(_pkg(e["name"], e["version"], AUDIT_NAME, path, "CARGO", source=e.get("source"),
                        kind=e.get("kind"), root=e.get("root") or None, local=local or None))
    return out
