"""Session fixture: a real npm project with old pins installed by npm (lock v3 + node_modules), cached."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from npmls import npm_ls

PACKAGE_JSON: dict[str, Any] = {
    "name": "vulnhound-npm-oracle",
    "version": "1.0.0",
    "private": True,
    "dependencies": {
        "lodash": "4.17.4", "express": "4.16.0", "minimist": "1.2.0", "moment": "2.19.1", "jquery": "3.3.1",
        "handlebars": "4.0.11", "axios": "0.18.0", "debug": "2.6.8", "mkdirp": "0.5.1", "node-fetch": "2.6.0",
        "underscore": "1.8.3", "request": "2.88.0", "qs": "6.5.1", "ws": "5.2.0", "marked": "0.3.6",
        "serialize-javascript": "1.4.0", "yargs-parser": "10.0.0", "kind-of": "6.0.2", "dot-prop": "4.2.0",
        "ini": "1.3.5", "minimatch": "3.0.4", "glob": "7.1.2", "tar": "4.4.1", "semver": "5.5.0",
        "strip-ansi": "npm:strip-ansi@4.0.0",
    },
    "devDependencies": {"mocha": "5.2.0"},
    "optionalDependencies": {"is-number": "7.0.0"},
}

# The cached target is keyed by the manifest, so editing it rebuilds the project.
KEY = hashlib.sha256(json.dumps(PACKAGE_JSON, sort_keys=True).encode()).hexdigest()[:10]


def build_npm_project(targets: Path) -> Path:
    project = targets / f"npm-old-{KEY}"
    oracle = Path(f"{project}.npm-ls.json")
    if oracle.is_file():
        return project
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    (project / "package.json").write_text(json.dumps(PACKAGE_JSON, indent=2))
    subprocess.run(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund"], cwd=project, check=True,
                   capture_output=True, timeout=1200)
    oracle.write_text(json.dumps(sorted(npm_ls(project))))
    return project


@pytest.fixture(scope="session")
def old_npm_project(targets_dir: Path) -> tuple[Path, set[tuple[str, str]]]:
    project = build_npm_project(targets_dir)
    listed = json.loads(Path(f"{project}.npm-ls.json").read_text())
    return project, {(n, v) for n, v in listed}
