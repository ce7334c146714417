"""The one explicit list of catalogers. Add a cataloger here and nowhere else."""

from __future__ import annotations

import importlib

from vulnhound.catalogers.interface import Cataloger

# "module:Class" so that a cataloger with a heavy import costs nothing until a scan needs it.
CATALOGERS: tuple[str, ...] = (
    # OS package databases
    # "vulnhound.catalogers.dpkg:DpkgCataloger",
    # "vulnhound.catalogers.rpm:RpmCataloger",
    # "vulnhound.catalogers.apk:ApkCataloger",
    # Language ecosystems
    # "vulnhound.catalogers.python:PythonInstalledCataloger",
    # ...
)


def load(names: tuple[str, ...] = CATALOGERS) -> list[Cataloger]:
    out: list[Cataloger] = []
    for spec in names:
        module, _, cls = spec.partition(":")
        out.append(getattr(importlib.import_module(module), cls)())
    return out
