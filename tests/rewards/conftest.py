"""A hand-made instance whose rewards are computed by hand in the tests, and helpers that write
stage results the way a run does (StageCommit through write_units)."""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from swepipe.datasets.ingest import ingest_instances
from swepipe.store.codecs import to_rows
from swepipe.store.configs import config_row, register_configs
from swepipe.store.store import Store, insert_rows
from swepipe.store.writer import StageCommit, write_units
from swepipe.types import Instance

A_PY = "def f():\n    x = 1\n    y = 2\n    return x\n\n\n\n\ndef g():\n    a = 1\n    return a\n"
B_PY = "import os\nprint(1)\n"

A_DIFF = """diff --git a/pkg/a.py b/pkg/a.py
--- a/pkg/a.py
+++ b/pkg/a.py
@@ -2,3 +2,3 @@ def f():
     x = 1
-    y = 2
+    y = 3
     return x
@@ -10,2 +10,3 @@ def g():
     a = 1
+    b = 2
     return a
"""
B_DIFF = """diff --git a/pkg/b.py b/pkg/b.py
--- a/pkg/b.py
+++ b/pkg/b.py
@@ -1,2 +1,2 @@
-import os
+import sys
 print(1)
"""
NEW_DIFF = """diff --git a/pkg/new.py b/pkg/new.py
new file mode 100644
--- /dev/null
+++ b/pkg/new.py
@@ -0,0 +1 @@
+NEW = 1
"""
GOLD = A_DIFF + B_DIFF + NEW_DIFF
"""Three files: two existing (a.py with two hunks, b.py) and one new file."""


def make_instance(base_commit: str = "0" * 40) -> Instance:
    return Instance(instance_id="acme__widgets-1", repo="acme/widgets", base_commit=base_commit,
                    problem_statement="widgets break", patch=GOLD,
                    fail_to_pass=["t1", "t2"], pass_to_pass=["t3"])


def git_repo(root: Path) -> str:
    """A clone `root/acme__widgets` holding pkg/a.py and pkg/b.py; returns the commit."""
    repo = root / "acme__widgets"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "a.py").write_text(A_PY)
    (repo / "pkg" / "b.py").write_text(B_PY)
    env = ["-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True)
    subprocess.run(["git", "-C", str(repo), *env, "commit", "-qm", "base"], check=True)
    return subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], check=True,
                          capture_output=True, text=True).stdout.strip()


class Writer:
    """Writes configs and stage results into a store as a run would."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def config(self, stage: str, component: str,
               upstream: Mapping[str, str] | None = None) -> str:
        row = config_row(stage, component, "1", {}, upstream)  # type: ignore[arg-type]
        with self.store.transaction() as conn:
            register_configs(conn, [row])
        return row["config_hash"]

    def result(self, stage: str, config: str, instance: Instance, value: Any) -> None:
        unit = StageCommit(stage=stage, config_hash=config,  # type: ignore[arg-type]
                           instance_id=instance.instance_id,
                           instance_hash=instance.content_hash(), status="done",
                           rows=to_rows(stage, value), skip_if_done=False)  # type: ignore[arg-type]
        with self.store.transaction() as conn:
            write_units(conn, [unit])

    def rows(self, table: str, rows: list[dict[str, Any]]) -> None:
        with self.store.transaction() as conn:
            insert_rows(conn, table, rows)


@pytest.fixture
def handmade(store: Store) -> tuple[Store, Instance, Writer]:
    instance = make_instance()
    ingest_instances(store, [instance], "handmade", "test")
    return store, instance, Writer(store)


def rewards_of(store: Store, metric: str, config: str) -> dict[int, float | None]:
    """{sample_idx: value} of one metric and config."""
    rows = store.query("SELECT sample_idx, value FROM rewards WHERE metric = $m "
                       "AND config_hash = $c", {"m": metric, "c": config}).to_pylist()
    return {r["sample_idx"]: r["value"] for r in rows}
