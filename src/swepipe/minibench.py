"""The bundled mini-benchmark: three tiny real Python repositories, each with a seeded bug, an
issue, a gold patch and gold tests, in SWE-bench's shape.

`build_minibench(repos_dir)` writes each repository as a git clone named `minibench__<name>` and
commits it with fixed author, committer and dates, so `base_commit` (and with it every config
and instance hash) is the same on every machine. `replicate` makes more instances of the same
repositories under new ids, for benchmarks at scale.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from importlib import resources
from pathlib import Path

from swepipe.errors import InputError
from swepipe.types import Instance

_GIT_ENV = {"GIT_AUTHOR_NAME": "swepipe", "GIT_AUTHOR_EMAIL": "demo@swepipe",
            "GIT_COMMITTER_NAME": "swepipe", "GIT_COMMITTER_EMAIL": "demo@swepipe",
            "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
            "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}


def minibench_root() -> Path:
    return Path(str(resources.files("swepipe") / "data" / "minibench"))


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          env={**os.environ, **_GIT_ENV})
    if done.returncode != 0:
        raise InputError(f"git {' '.join(args)} failed: {done.stderr.strip()}", source=str(repo))
    return done.stdout.strip()


def build_repo(source: Path, dest: Path) -> str:
    """A git repository at `dest` holding `source`'s files in one deterministic commit."""
    if (dest / ".git").is_dir():
        return _git(dest, "rev-parse", "HEAD")
    tmp = dest.with_name(dest.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(source, tmp)
    _git(tmp, "init", "-q", "-b", "main")
    _git(tmp, "add", "-A")
    _git(tmp, "commit", "-q", "-m", "minibench")
    tmp.rename(dest)  # atomic: a half-built repository is never seen as done
    return _git(dest, "rev-parse", "HEAD")


def build_minibench(repos_dir: str | Path) -> list[Instance]:
    """Create the mini-benchmark's repositories under `repos_dir`; return its instances."""
    repos_dir = Path(repos_dir)
    repos_dir.mkdir(parents=True, exist_ok=True)
    instances = []
    for bench in sorted(p for p in minibench_root().iterdir() if p.is_dir()):
        row = json.loads((bench / "instance.json").read_text())
        commit = build_repo(bench / "repo", repos_dir / row["repo"].replace("/", "__"))
        instances.append(Instance(
            instance_id=row["instance_id"], repo=row["repo"], base_commit=commit,
            problem_statement=row["problem_statement"], patch=row["patch"],
            test_patch=row["test_patch"], fail_to_pass=row["FAIL_TO_PASS"],
            pass_to_pass=row["PASS_TO_PASS"], repo_version=row.get("version")))
    return instances


def replicate(instances: list[Instance], n: int) -> list[Instance]:
    """`n` instances cycling through `instances`, each under a new id (same repository)."""
    return [instances[k % len(instances)].model_copy(
        update={"instance_id": f"{instances[k % len(instances)].instance_id}-r{k}"})
        for k in range(n)]
