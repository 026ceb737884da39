"""The experiments tests' small pipeline: a `demo/pkg` repository whose `f` returns 1, instances
asking to fix it, and the overrides that run the test components (components.py) on them with a
scripted model that names `pkg/mod.py` and writes `DIFF`."""

from __future__ import annotations

from pathlib import Path

from swepipe.types import Instance
from tests.repos.gitrepo import make_repo

DIFF = ("diff --git a/pkg/mod.py b/pkg/mod.py\n--- a/pkg/mod.py\n+++ b/pkg/mod.py\n"
        "@@ -1,2 +1,2 @@\n def f():\n-    return 1\n+    return 2\n")


def make_pkg_repo(repos_dir: Path) -> str:
    return make_repo(repos_dir / "demo__pkg", {"pkg/mod.py": "def f():\n    return 1\n"})


def pkg_instances(commit: str, count: int) -> list[Instance]:
    """`demo__pkg-0` ... at `commit`, each with `DIFF` as its gold patch."""
    return [Instance(instance_id=f"demo__pkg-{i}", repo="demo/pkg", base_commit=commit,
                     problem_statement=f"f returns 1 (case {i})", patch=DIFF)
            for i in range(count)]


def pipeline_overrides(tmp_path: Path, repos: Path) -> list[str]:
    """Config overrides running the test components on dataset `mini` with clones in `repos`
    (the model's script is written to `tmp_path`)."""
    script = tmp_path / "script.yaml"
    script.write_text("rules:\n  - pattern: Which file\n    reply: pkg/mod.py\n"
                      "  - pattern: write a diff\n    reply: |\n" +
                      "".join(f"      {line}\n" for line in DIFF.splitlines()))
    return [f"repos_dir={repos}", f"cache_dir={tmp_path / 'cache'}", "dataset=mini",
            f"model.script={script}",
            "localize.component=tests.experiments.components:AskFileLocalizer",
            "generate.component=tests.experiments.components:SampleDiffGenerator",
            "select.component=tests.experiments.components:FirstSelector"]
