"""Installed Python distributions: ``*.dist-info/METADATA``, ``*.egg-info/PKG-INFO`` and ``*.egg-info`` files,
wherever they sit (site-packages, dist-packages, venvs, ``pip install --target`` trees, function zips)."""

from __future__ import annotations

import email.parser
import email.policy
from collections.abc import Sequence
from email.message import Message

from vulnhound.catalogers.interface import CatalogContext, Cataloger, CatalogResult
from vulnhound.catalogers.python._common import pypi_package, read_limited
from vulnhound.inventory.model import CatalogIssue
from vulnhound.sources.interface import FileView

# A License field longer than this is the whole licence text pasted in, not a name.
MAX_LICENSE_NAME = 80


def wants_metadata(path: str) -> bool:
    return (path.endswith(".dist-info/METADATA") or path.endswith(".egg-info/PKG-INFO")
            or path.endswith(".egg-info"))


def licenses_of(msg: Message) -> tuple[str, ...]:
    """License-Expression (metadata 2.4) first, then a short License field, then the licence classifiers."""
    expr = (msg.get("License-Expression") or "").strip()
    if expr:
        return (expr,)
    field = (msg.get("License") or "").strip()
    if field and field.upper() != "UNKNOWN" and len(field) <= MAX_LICENSE_NAME and "\n" not in field:
        return (field,)
    found = [c.split("::")[-1].strip() for c in msg.get_all("Classifier") or [] if c.startswith("License ::")]
    return tuple(dict.fromkeys(c for c in found if c and c != "OSI Approved"))


class PythonInstalledCataloger(Cataloger):
    """One package per installed distribution; the location is its METADATA (or PKG-INFO) file."""

    name = "python-installed"

    def wants(self, path: str) -> bool:
        return wants_metadata(path)

    def catalog(self, view: FileView, paths: Sequence[str], ctx: CatalogContext) -> CatalogResult:
        out = CatalogResult()
        parser = email.parser.BytesParser(policy=email.policy.compat32)
        for path in paths:
            data = read_limited(view, path, ctx, self.name, out.issues)
            if data is None:
                continue
            # Only the header block matters; the description body can be megabytes.
            head = data.split(b"\n\n", 1)[0]
            msg = parser.parsebytes(head, headersonly=True)
            name = (msg.get("Name") or "").strip()
            version = (msg.get("Version") or "").strip()
            if not name or not version:
                missing = "Name" if not name else "Version"
                out.issues.append(CatalogIssue(self.name, path, f"malformed metadata: no {missing} field"))
                continue
            maintainer = (msg.get("Maintainer") or msg.get("Author") or "").strip() or None
            pkg = pypi_package(name, version, path, self.name, "PYTHONPKG", licenses=licenses_of(msg),
                               maintainer=maintainer)
            if pkg.metadata.get("version_invalid"):
                out.issues.append(CatalogIssue(self.name, path, f"version {version!r} is not PEP 440; kept as is",
                                               severity="note"))
            out.packages.append(pkg)
        return out
