"""Throw-away stores for tests and benchmarks: a PostgreSQL database created on entry and dropped (forcibly) on
exit, and a migrated service store on it or on a SQLite file."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import NoReturn

import sqlalchemy as sa

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def temp_database(prefix: str, admin_url: str = PG_ADMIN,
                  unreachable: Callable[[str], NoReturn] | None = None) -> Iterator[str]:
    """Yields the new database's URL. ``unreachable`` (e.g. ``pytest.skip``) is called with a message when the
    server cannot be reached; without it the connection error propagates."""
    # pre-ping: the server may have restarted meanwhile (fault tests restart their own cluster)
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", pool_pre_ping=True,
                             connect_args={"connect_timeout": 3})
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(3)}"  # unique across xdist workers and repeated runs
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        admin.dispose()
        if unreachable is None:
            raise
        unreachable(f"PostgreSQL at {admin.url.render_as_string(hide_password=True)} is not reachable: {exc.orig}")
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@contextmanager
def service_store(kind: str, tmp: Path, prefix: str, admin_url: str = PG_ADMIN) -> Iterator[sa.Engine]:
    """A migrated, empty vulnhound service store: ``kind`` "sqlite" (a file under ``tmp``) or "postgresql"."""
    from vulnhound.service.db.engine import open_store

    where = (nullcontext(f"sqlite:///{tmp / f'{prefix}-{secrets.token_hex(3)}.db'}") if kind == "sqlite"
             else temp_database(prefix, admin_url))
    with where as url:
        engine = open_store(url)
        try:
            yield engine
        finally:
            engine.dispose()
