"""Store fixtures: an empty knowledge base per test on SQLite and on PostgreSQL (one database per session)."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.pgtemp import temp_database
from vulnhound.advisories.store import KnowledgeBase, open_engine

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh database for this session, dropped at the end; skips when PostgreSQL is not running."""
    with temp_database("vulnhound_test", PG_ADMIN, pytest.skip) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "kb.db")
    base: str = request.getfixturevalue("pg_database")
    schema = f"t_{secrets.token_hex(4)}"
    eng = sa.create_engine(base)
    with eng.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    eng.dispose()
    return f"{base}?options=-csearch_path%3D{schema}"


@pytest.fixture
def kb(db_url: str) -> Iterator[KnowledgeBase]:
    engine = open_engine(db_url)
    yield KnowledgeBase(engine)
    engine.dispose()


# Real records from ../shared/vulndata used across the store tests.
PYPA = ("jinja2/PYSEC-2014-8.yaml", "jinja2/PYSEC-2014-82.yaml", "jinja2/PYSEC-2019-217.yaml",
        "jinja2/PYSEC-2019-220.yaml", "jinja2/PYSEC-2021-66.yaml")


@pytest.fixture
def pypa_mirror(vulndata: Path, tmp_path: Path) -> Path:
    """A mirror holding a PyPA checkout with the five jinja2 records (layout vulns/<pkg>/<ID>.yaml)."""
    root = tmp_path / "mirror" / "pypa-advisory-database" / "vulns" / "jinja2"
    root.mkdir(parents=True)
    for rel in PYPA:
        shutil.copy(vulndata / "pypa-advisory-database" / "vulns" / rel, root / Path(rel).name)
    return tmp_path / "mirror"
