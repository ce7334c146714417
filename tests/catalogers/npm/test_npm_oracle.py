"""Oracle: a real npm project with old pins installed by npm; our set must equal ``npm ls --all --json``."""

from __future__ import annotations

from pathlib import Path

import pytest

from vulnhound.catalogers.interface import CatalogContext
from vulnhound.catalogers.npm import NodeModulesCataloger
from vulnhound.inventory.build import build_inventory
from vulnhound.sources.directory import DirSource, DirView


@pytest.mark.slow
def test_project_equals_npm_ls(old_npm_project: tuple[Path, set[tuple[str, str]]]) -> None:
    project, listed = old_npm_project
    with DirSource(str(project)) as src:
        inv = build_inventory(src)
    ours = {(p.name, p.version) for p in inv.packages if p.type == "npm"}
    assert ours == listed
    assert len(listed) > 100
    assert {p.name for p in inv.packages if p.dev} >= {"mocha"}


@pytest.mark.slow
def test_installed_tree_alone_equals_npm_ls(old_npm_project: tuple[Path, set[tuple[str, str]]]) -> None:
    """The node_modules tree read on its own (lock ignored) gives the same set: every nested copy counts."""
    project, listed = old_npm_project
    view = DirView(str(project))
    cat = NodeModulesCataloger(respect_locks=False)
    got = cat.catalog(view, sorted(m.path for m in view.iter_files() if cat.wants(m.path)), CatalogContext())
    assert {(p.name, p.version) for p in got.packages} == listed
    assert not got.issues
