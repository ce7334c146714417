"""Matching: version schemes and the matcher that joins inventories with advisories."""
