"""Closed integer intervals."""
