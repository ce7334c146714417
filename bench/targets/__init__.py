"""Builders for real scan targets (Debian rootfs, images, venvs, npm trees, function zips)."""
