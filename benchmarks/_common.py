"""Helpers shared by benchmark scripts (timing, synthetic instances)."""

from __future__ import annotations

import time
from contextlib import contextmanager
from collections.abc import Iterator

from swepipe.types import Instance

GOLD = ("diff --git a/pkg/mod.py b/pkg/mod.py\n--- a/pkg/mod.py\n+++ b/pkg/mod.py\n"
        "@@ -1,3 +1,3 @@\n def f():\n-    return 1\n+    return 2\n \n")


def synthetic_instances(n: int, prefix: str = "bench__repo") -> list[Instance]:
    return [Instance(instance_id=f"{prefix}-{i}", repo="bench/repo", base_commit="abc",
                     problem_statement=f"issue {i} " * 50, patch=GOLD) for i in range(n)]


@contextmanager
def timed(label: str, results: dict[str, float]) -> Iterator[None]:
    start = time.perf_counter()
    yield
    results[label] = time.perf_counter() - start
