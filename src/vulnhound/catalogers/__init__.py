"""Catalogers: one module per package database or ecosystem; pure parsers over a read-only view."""
