"""Merging intervals."""

from intervals.core import overlaps


def merge_all(intervals):
    """Merge overlapping intervals, sorted by start."""
    merged = []
    for current in sorted(intervals):
        if merged and overlaps(merged[-1], current):
            merged[-1] = (merged[-1][0], max(merged[-1][1], current[1]))
        else:
            merged.append(current)
    return merged
