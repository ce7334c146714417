"""Oracle: a real function zip (pip --target + npm install) with a Python layer; the sets pip and npm report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

from vulnhound.inventory.build import build_inventory
from vulnhound.sources.resolve import SourceOptions, open_source


@pytest.mark.slow
def test_function_zip_equals_pip_and_npm(function_zip: Path) -> None:
    oracle = json.loads((function_zip / "oracle.json").read_text())
    opts = SourceOptions(layers=[str(function_zip / "layer.zip")], runtime="python3.11")
    with open_source(f"function:{function_zip / 'app.zip'}", opts) as src:
        inv = build_inventory(src)
    pypi = {(p.name, p.version) for p in inv.packages if p.type == "pypi"}
    npm = {(p.name, p.version) for p in inv.packages if p.type == "npm"}
    assert pypi == {(canonicalize_name(n), v) for n, v in oracle["pypi"]}
    assert npm == {(n, v) for n, v in oracle["npm"]}
    layer_paths = {p.path for p in inv.packages if p.name == "django"}
    assert layer_paths == {"opt/python/Django-3.2.dist-info/METADATA"}
    assert inv.source.metadata["runtime"] == "python3.11"
