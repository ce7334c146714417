"""Alembic environment: called programmatically with an open connection; own version table."""

from __future__ import annotations

from alembic import context

from vulnhound.service.db.engine import VERSION_TABLE
from vulnhound.service.db.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
