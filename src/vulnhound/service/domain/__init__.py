"""Service domain logic: plain functions over a SQLAlchemy connection, every one scoped to an account."""
