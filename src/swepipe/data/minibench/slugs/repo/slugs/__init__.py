"""URL slugs."""
