"""The service store: SQLAlchemy tables, engine set-up and the service's own Alembic migrations."""
