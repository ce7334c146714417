"""Exports: inventory and findings written in wire formats (JSON, CycloneDX, SPDX, SARIF, ...)."""
