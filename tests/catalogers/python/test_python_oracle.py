"""Oracle: a real venv with dozens of old pinned packages; our installed set must equal ``pip list``."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from vulnhound.inventory.build import build_inventory
from vulnhound.sources.directory import DirSource


@pytest.mark.slow
def test_venv_equals_pip_list(old_venv: tuple[Path, set[tuple[str, str]]]) -> None:
    venv, listed = old_venv
    with DirSource(str(venv)) as src:
        inv = build_inventory(src)
    ours = {(p.name, p.version) for p in inv.packages if p.found_by == "python-installed"}
    assert ours == {(canonicalize_name(n), v) for n, v in listed}
    assert len(ours) >= 50
    assert not [i for i in inv.issues if i.cataloger.startswith("python") and i.severity == "error"]
