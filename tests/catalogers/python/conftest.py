"""Session fixture: a real venv with dozens of old pinned packages, built once and cached in targets_dir."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

# Old releases with known advisories; all install on CPython 3.11 (wheels, abi3 wheels or pure-Python sdists).
OLD_PINS = [
    "django==3.2", "requests==2.20.0", "urllib3==1.24.1", "idna==2.7", "chardet==3.0.4", "certifi==2018.10.15",
    "jinja2==2.10", "flask==1.0", "werkzeug==0.15.3", "itsdangerous==1.1.0", "click==7.0", "sqlparse==0.4.1",
    "pytz==2021.1", "six==1.12.0", "python-dateutil==2.8.0", "pyjwt==1.7.1", "httplib2==0.18.0",
    "oauthlib==3.1.0", "requests-oauthlib==1.3.0", "babel==2.9.0", "mako==1.1.0", "bleach==3.1.0",
    "html5lib==1.0.1", "pygments==2.5.2", "docutils==0.15", "jsonschema==3.2.0", "attrs==19.3.0", "rsa==4.0",
    "pyasn1==0.4.8", "ecdsa==0.13", "mistune==0.8.4", "markdown==3.1", "waitress==1.4.0", "gunicorn==19.9.0",
    "cryptography==3.3.2", "pyopenssl==19.1.0", "paramiko==2.4.1", "setuptools==65.5.0", "Twisted==22.4.0",
    "PyYAML==6.0.1", "zipp==3.1.0", "Pillow==9.3.0",
]

# The cached target is keyed by the pin list, so editing the list rebuilds it.
PINS_KEY = hashlib.sha256("\n".join(OLD_PINS).encode()).hexdigest()[:10]


def run(cmd: list[str], cwd: Path | None = None) -> str:
    return subprocess.run(cmd, cwd=cwd, check=True, capture_output=True, text=True, timeout=1800).stdout


def build_old_venv(targets: Path) -> Path:
    """A venv under ``targets``; reused when its oracle file (pip list) already exists."""
    venv = targets / f"py-old-venv-{PINS_KEY}"
    oracle = Path(f"{venv}.pip-list.json")
    if oracle.is_file():
        return venv
    run([sys.executable, "-m", "venv", "--clear", str(venv)])
    pip = str(venv / "bin" / "pip")
    pins_file = Path(f"{venv}.requirements.txt")
    pins_file.write_text("\n".join(OLD_PINS) + "\n")
    run([pip, "install", "--no-input", "--prefer-binary", "-r", str(pins_file)])
    oracle.write_text(run([pip, "list", "--format", "json"]))
    return venv


@pytest.fixture(scope="session")
def old_venv(targets_dir: Path) -> tuple[Path, set[tuple[str, str]]]:
    venv = build_old_venv(targets_dir)
    listed = json.loads(Path(f"{venv}.pip-list.json").read_text())
    return venv, {(d["name"], d["version"]) for d in listed}

