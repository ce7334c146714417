"""Open the knowledge base: resolve ``--db``/``VULNHOUND_DB``/default path, create the engine, run migrations."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import platformdirs
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).with_name("migrations")


def default_db_path() -> Path:
    return Path(platformdirs.user_data_dir("vulnhound")) / "vulnhound.db"


def resolve_url(db: str | None = None) -> str:
    """A SQLAlchemy URL from a path or URL (``--db``), else ``VULNHOUND_DB``, else the user data dir file."""
    value = db or os.environ.get("VULNHOUND_DB") or str(default_db_path())
    if "://" in value:
        # psycopg (3) is the installed driver; plain postgresql:// would make SQLAlchemy look for psycopg2.
        for plain in ("postgresql://", "postgres://"):
            if value.startswith(plain):
                return "postgresql+psycopg://" + value[len(plain):]
        return value
    path = Path(value).expanduser().resolve()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def sqlite_path(url: str) -> Path | None:
    """The database file behind a SQLite URL, None for other backends."""
    u = sa.engine.make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL: readers keep the previous snapshot while an import writes; a killed writer leaves it intact.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()


def create_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def _alembic_config(conn: sa.Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def head_revision() -> str | None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def migrate(engine: sa.Engine) -> None:
    """Upgrade to the newest schema; a no-op (one cheap query) when already there."""
    head = head_revision()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current == head:
        return
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")


def open_engine(db: str | None = None) -> sa.Engine:
    engine = create_engine(resolve_url(db))
    migrate(engine)
    return engine
