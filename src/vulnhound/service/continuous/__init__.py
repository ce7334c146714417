"""Continuous evaluation: the package-key index, re-evaluation driven by knowledge-base operations, its jobs."""
