"""Small builders shared by the store tests."""

from __future__ import annotations

from swepipe.types import Instance

GOLD = """diff --git a/pkg/mod.py b/pkg/mod.py
--- a/pkg/mod.py
+++ b/pkg/mod.py
@@ -1,3 +1,3 @@
 def f():
-    return 1
+    return 2
 
"""


def make_instances(n: int, prefix: str = "demo__repo") -> list[Instance]:
    return [Instance(instance_id=f"{prefix}-{i}", repo="demo/repo", base_commit="abc123",
                     problem_statement=f"issue {i}", patch=GOLD) for i in range(n)]
