"""Alembic migrations for the knowledge base, shipped in the package and run on every open."""
