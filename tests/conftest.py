"""Shared test fixtures: where the repo, ../shared and built targets are."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("VULNHOUND_SHARED", REPO.parent / "shared"))
TARGETS = Path(os.environ.get("VULNHOUND_TARGETS", REPO / ".targets"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"{SHARED} missing: the test corpus ../shared must sit beside the repository")
    return SHARED


@pytest.fixture(scope="session")
def vulndata(shared: Path) -> Path:
    return shared / "vulndata"


@pytest.fixture(scope="session")
def targets_dir() -> Path:
    TARGETS.mkdir(parents=True, exist_ok=True)
    return TARGETS
