"""Making slugs unique."""


def unique_slug(slug, taken):
    """`slug`, or `slug-2`, `slug-3`, ... whichever is not in `taken`."""
    candidate, n = slug, 2
    while candidate in taken:
        candidate, n = f"{slug}-{n}", n + 1
    return candidate
