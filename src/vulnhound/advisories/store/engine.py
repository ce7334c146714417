"""Open the knowledge base: resolve ``--db``/``VULNHOUND_DB``/default path, create the engine, run migrations.

Opening an up-to-date knowledge base costs one query (the schema version stamp); Alembic is imported only to
upgrade or to explain a version it does not know.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs
import sqlalchemy as sa

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# The newest migration's revision; a test checks it against the scripts, so a new migration must update it.
HEAD = "0001"
VERSION_TABLE = "alembic_version"  # Alembic's default, as migrations/env.py leaves it


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


def schema_stamp(engine: sa.Engine) -> str | None:
    """The stored schema revision, in one query; None when there is no version table (or no row)."""
    with engine.connect() as conn:
        try:
            return conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
        except sa.exc.DBAPIError:
            conn.rollback()  # PostgreSQL aborts the transaction on the missing table
            if VERSION_TABLE in sa.inspect(conn).get_table_names():
                raise  # the table is there: the failure is something else, let it speak
            return None


def _alembic_config(conn: sa.Connection) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def head_revision() -> str | None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def migrate(engine: sa.Engine) -> None:
    """Upgrade to the newest schema; a no-op (one cheap query) when already there."""
    if schema_stamp(engine) == HEAD:
        return
    from alembic import command

    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")


def open_engine(db: str | None = None) -> sa.Engine:
    engine = create_engine(resolve_url(db))
    migrate(engine)
    return engine
