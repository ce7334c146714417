"""What npm itself says is installed in a project: the oracle the npm and function-zip tests compare with."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any


def npm_ls(project: Path) -> set[tuple[str, str]]:
    """name@version of every node in ``npm ls --all --json`` (nested duplicates included)."""
    out = subprocess.run(["npm", "ls", "--all", "--json"], cwd=project, capture_output=True, text=True, timeout=300)
    found: set[tuple[str, str]] = set()

    def walk(deps: dict[str, Any]) -> None:
        for key, node in deps.items():
            if "version" in node:
                # npm ls keys a dependency by its alias; the real name is in "name" when aliased.
                found.add((node.get("name", key), node["version"]))
            walk(node.get("dependencies", {}))

    walk(json.loads(out.stdout).get("dependencies", {}))
    return found
