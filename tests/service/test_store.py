"""The store: own Alembic version table beside the knowledge base's, idempotent start, first key printed once,
and a clear non-zero exit when the database is unreachable."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from conftest import _pg_database
from typer.testing import CliRunner

from vulnhound.advisories.store.engine import open_engine as open_kb_engine
from vulnhound.cli.main import app
from vulnhound.service.db.engine import VERSION_TABLE, StoreUnavailable, _config, open_store
from vulnhound.service.domain.accounts import authenticate, bootstrap
from vulnhound.service.server import build

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:9/none"


def test_shares_a_database_with_the_knowledge_base(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'both.db'}"
    open_kb_engine(url).dispose()
    engine = open_store(url)
    open_store(url).dispose()  # a second start migrates nothing
    with engine.connect() as conn:
        tables = set(sa.inspect(conn).get_table_names())
        assert {"alembic_version", VERSION_TABLE, "findings", "vulns"} <= tables
        head = ScriptDirectory.from_config(_config()).get_current_head()
        assert conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar_one() == head
        token = bootstrap(conn)
        assert token is not None and bootstrap(conn) is None
        actor = authenticate(conn, token)
        assert actor is not None and actor.role == "admin" and actor.is_root
        assert authenticate(conn, token[:-2] + "xx") is None
    engine.dispose()


def test_first_admin_key_only_on_first_build(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    first = build(url)
    assert first.first_admin_key and first.first_admin_key.startswith("vh_")
    assert build(url).first_admin_key is None


def test_unreachable_database() -> None:
    with pytest.raises(StoreUnavailable, match=r"127\.0\.0\.1:9"):
        open_store(UNREACHABLE)
    result = CliRunner().invoke(app, ["server", "--database-url", UNREACHABLE])
    assert result.exit_code == 2
    assert "cannot use the database" in result.output


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def test_migrations_build_exactly_the_declared_tables(backend: str, tmp_path: Path) -> None:
    """Upgrading through every migration gives what ``tables.py`` declares: no drift either way."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from vulnhound.service.db.tables import metadata

    urls = iter([f"sqlite:///{tmp_path / 'm.db'}"]) if backend == "sqlite" else _pg_database()
    url = next(urls)
    engine = open_store(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
            assert compare_metadata(ctx, metadata) == []
    finally:
        engine.dispose()
        next(urls, None)  # drops the PostgreSQL database
