"""Unified diffs: parsing, applying, normalizing, and SEARCH/REPLACE edits."""
