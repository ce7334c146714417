"""The one explicit list of catalogers. Add a cataloger here and nowhere else."""

from __future__ import annotations

import importlib

from vulnhound.catalogers.interface import Cataloger

# "module:Class" so that a cataloger with a heavy import costs nothing until a scan needs it.
CATALOGERS: tuple[str, ...] = (
    # OS package databases
    "vulnhound.catalogers.dpkg:DpkgCataloger",
    "vulnhound.catalogers.rpm:RpmCataloger",
    "vulnhound.catalogers.apk:ApkCataloger",
    # Language ecosystems
    "vulnhound.catalogers.python:PythonInstalledCataloger",
    "vulnhound.catalogers.python:RequirementsCataloger",
    "vulnhound.catalogers.python:PoetryLockCataloger",
    "vulnhound.catalogers.python:PipfileLockCataloger",
    "vulnhound.catalogers.python:UvLockCataloger",
    "vulnhound.catalogers.python:PylockCataloger",
    "vulnhound.catalogers.npm:PackageLockCataloger",
    "vulnhound.catalogers.npm:YarnLockCataloger",
    "vulnhound.catalogers.npm:PnpmLockCataloger",
    "vulnhound.catalogers.npm:NodeModulesCataloger",
    # Go, Java, Ruby, Rust, PHP, .NET
    "vulnhound.catalogers.golang.binary:GoBinaryCataloger",
    "vulnhound.catalogers.golang.gomod:GoModCataloger",
    "vulnhound.catalogers.java.archive:JavaArchiveCataloger",
    "vulnhound.catalogers.ruby:GemfileLockCataloger",
    "vulnhound.catalogers.ruby:GemspecCataloger",
    "vulnhound.catalogers.rust:CargoLockCataloger",
    "vulnhound.catalogers.rust:CargoAuditableCataloger",
    "vulnhound.catalogers.php:ComposerCataloger",
    "vulnhound.catalogers.dotnet:DotnetCataloger",
)


def load(names: tuple[str, ...] = CATALOGERS) -> list[Cataloger]:
    out: list[Cataloger] = []
    for spec in names:
        module, _, cls = spec.partition(":")
        out.append(getattr(importlib.import_module(module), cls)())
    return out
