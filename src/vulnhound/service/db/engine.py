"""Open the service store: resolve the URL, create the engine, check it is reachable, run the service migrations.

The service keeps its own Alembic history in ``vulnhound_service_version`` so it can share a database with the
knowledge base (whose history lives in ``alembic_version``) without either seeing the other's revisions.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import platformdirs
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from vulnhound.advisories.store import engine as kb_engine

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "vulnhound_service_version"


class StoreUnavailable(Exception):
    """The database cannot be reached or migrated; the message says which and why."""


def default_url() -> str:
    path = Path(platformdirs.user_data_dir("vulnhound")) / "service.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def _foreign_keys(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def create_engine(url: str) -> sa.Engine:
    """The knowledge base's SQLite set-up (WAL, busy timeout) plus enforced foreign keys; PostgreSQL fails fast."""
    if url.startswith("sqlite"):
        engine = kb_engine.create_engine(url)
        sa.event.listen(engine, "connect", _foreign_keys)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 5} if "psycopg" in url else {})


def _config(conn: sa.Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def migrate(engine: sa.Engine) -> None:
    """Upgrade to the newest schema; one cheap query when already there."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE}).get_current_revision()
    if current == head:
        return
    with engine.begin() as conn:
        command.upgrade(_config(conn), "head")


def open_store(url: str | None = None) -> sa.Engine:
    """An engine on a migrated store; raises StoreUnavailable with the URL (password hidden) and the cause."""
    url = url or default_url()
    engine = create_engine(url)
    try:
        migrate(engine)
    except sa.exc.OperationalError as exc:
        shown = sa.engine.make_url(url).render_as_string(hide_password=True)
        engine.dispose()
        raise StoreUnavailable(f"cannot use the database at {shown}: {str(exc.orig).strip().splitlines()[0]}") from None
    return engine
