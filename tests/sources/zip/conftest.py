"""Session fixture: a real Lambda-style function zip (pip --target + npm install) and a Python layer zip."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from npmls import npm_ls

CODE_PINS = ["requests==2.20.0", "urllib3==1.24.1", "pyjwt==1.7.1", "jinja2==2.10", "PyYAML==6.0.1"]
LAYER_PINS = ["django==3.2", "sqlparse==0.4.1", "pytz==2021.1"]
PACKAGE_JSON: dict[str, Any] = {
    "name": "fn", "version": "1.0.0", "private": True,
    "dependencies": {"lodash": "4.17.4", "axios": "0.18.0", "mkdirp": "0.5.1", "minimist": "1.2.0",
                     "moment": "2.19.1", "node-fetch": "2.6.0"},
}
KEY = hashlib.sha256(json.dumps([CODE_PINS, LAYER_PINS, PACKAGE_JSON]).encode()).hexdigest()[:10]


def _run(cmd: list[str], cwd: Path | None = None) -> str:
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True, timeout=1800).stdout


def _zip_dir(src: Path, dest: Path) -> None:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for root, dirs, files in os.walk(src):
            dirs.sort()
            for name in sorted(files):
                full = Path(root) / name
                zf.write(full, full.relative_to(src).as_posix())


def _pip_list(path: Path) -> list[list[str]]:
    out = _run([sys.executable, "-m", "pip", "list", "--path", str(path), "--format", "json"])
    return [[d["name"], d["version"]] for d in json.loads(out)]


def build_function(targets: Path) -> Path:
    """targets/fn-KEY/{app.zip, layer.zip, oracle.json}; built once, reused while the pins stay the same."""
    out = targets / f"fn-{KEY}"
    if (out / "oracle.json").is_file():
        return out
    shutil.rmtree(out, ignore_errors=True)
    code, layer = out / "code", out / "layer" / "python"
    code.mkdir(parents=True)
    layer.mkdir(parents=True)
    pip = [sys.executable, "-m", "pip", "install", "--no-input", "--prefer-binary", "--no-compile", "--target"]
    _run([*pip, str(code), *CODE_PINS])
    _run([*pip, str(layer), *LAYER_PINS])
    (code / "package.json").write_text(json.dumps(PACKAGE_JSON, indent=2))
    _run(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=code)
    (code / "lambda_function.py").write_text("def handler(event, context):\n    return {}\n")
    oracle = {"pypi": _pip_list(code) + _pip_list(layer), "npm": [list(x) for x in sorted(npm_ls(code))]}
    _zip_dir(code, out / "app.zip")
    _zip_dir(out / "layer", out / "layer.zip")
    shutil.rmtree(out / "code")
    shutil.rmtree(out / "layer")
    (out / "oracle.json").write_text(json.dumps(oracle))
    return out


@pytest.fixture(scope="session")
def function_zip(targets_dir: Path) -> Path:
    return build_function(targets_dir)
