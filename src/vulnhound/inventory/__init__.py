"""Inventory: the normalized model of what is installed (OS, packages with PURLs, provenance)."""
