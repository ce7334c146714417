"""Findings: identity, scoring and lifecycle of what the matcher reports."""
