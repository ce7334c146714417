"""Advisories: feed adapters (fetch and parse kept apart) and the normalized knowledge base."""
