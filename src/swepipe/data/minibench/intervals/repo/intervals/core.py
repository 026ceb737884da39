"""Closed intervals [start, end] as tuples."""


def length(interval):
    start, end = interval
    return end - start + 1


def overlaps(a, b):
    """True when closed intervals `a` and `b` share at least one point."""
    return a[0] < b[1] and b[0] < a[1]
