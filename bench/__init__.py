"""Benchmarks: vulnhound beside Trivy and Syft on real targets; results go to BENCHMARKS.md."""
