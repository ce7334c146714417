"""Installed Python distributions: ``*.dist-info/METADATA``, ``*.egg-info/PKG-INFO`` and ``*.egg-info`` files,
wherever they sit (site-packages, dist-packages, venvs, ``pip install --target`` trees, function zips)."""

from __future__ import annotations

import email.parser
import email.policy
from email.message import Message

from vulnhound.catalogers.interface import CatalogResult, WantHints
from vulnhound.catalogers.python._common import FileCataloger, pypi_package
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


class PythonInstalledCataloger(FileCataloger):
    """One package per installed distribution; the location is its METADATA (or PKG-INFO) file."""

    name = "python-installed"
    hints = WantHints(basenames=frozenset({"METADATA", "PKG-INFO"}), extensions=frozenset({".egg-info"}))
    document = "metadata"

    def wants(self, path: str) -> bool:
        return wants_metadata(path)

    def parse_file(self, view: FileView, path: str, data: bytes, out: CatalogResult) -> None:
        # Only the header block matters; the description body can be megabytes.
        msg = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(data.split(b"\n\n", 1)[0],
                                                                               headersonly=True)
        name = (msg.get("Name") or "").strip()
        version = (msg.get("Version") or "").strip()
        if not name or not version:
            raise ValueError(f"no {'Name' if not name else 'Version'} field")
        maintainer = (msg.get("Maintainer") or msg.get("Author") or "").strip() or None
        pkg = pypi_package(name, version, path, self.name, "PYTHONPKG", licenses=licenses_of(msg),
                           maintainer=maintainer)
        if pkg.metadata.get("version_invalid"):
            self.note(out, path, f"version {version!r} is not PEP 440; kept as is")
        out.packages.append(pkg)
