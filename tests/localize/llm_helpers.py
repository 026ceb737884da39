"""Builders for the LLM localizer tests: real git repositories, a store, the scripted model.

`run_stage` runs a localizer the way the runner does: inside `StageCache.get_or_compute` with a
`StoreWriter`, and a `ModelService` backed by a fresh scripted server (so a second call is a new
process's view: a fresh service, a fresh server whose request counts start at zero).
"""

from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swepipe.datasets.ingest import ingest_instances
from swepipe.hashing import ComponentConfig
from swepipe.models.handle import Binding
from swepipe.models.local import scripted_service
from swepipe.models.scripted_rules import Rule, Script
from swepipe.protocols import StageContext
from swepipe.repos.checkout import CheckoutConfig, Checkouts
from swepipe.store.stage_cache import StageCache, StageResult
from swepipe.store.store import Store
from swepipe.store.writer import StoreWriter
from swepipe.types import Instance

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1", "PATH": "/usr/bin:/bin"}


def git_checkout(tmp: Path, repo: str, files: dict[str, str]) -> tuple[Path, str]:
    """Commit `files` to a new clone under `tmp/clones/<owner__name>` and check it out through
    `repos.checkout` as the runner would. Returns (checkout directory, commit sha)."""
    clone = tmp / "clones" / repo.replace("/", "__")
    for rel, text in files.items():
        (clone / rel).parent.mkdir(parents=True, exist_ok=True)
        (clone / rel).write_text(text)
    for cmd in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"],
                ["git", "commit", "-q", "-m", "seed"]):
        subprocess.run(cmd, cwd=clone, check=True, env=GIT_ENV, capture_output=True)
    sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=clone, check=True, env=GIT_ENV,
                         capture_output=True, text=True).stdout.strip()
    checkouts = Checkouts(CheckoutConfig(cache_dir=tmp / "checkouts", repos_dir=tmp / "clones"))
    return checkouts.checkout(repo, sha), sha


def instance_for(repo: str, sha: str, issue: str, instance_id: str = "acme__x-1") -> Instance:
    return Instance(instance_id=instance_id, repo=repo, base_commit=sha, problem_statement=issue)


@dataclass
class StageRun:
    result: StageResult[Any]
    chat_requests: int
    """Chat requests the (fresh) scripted server received during this run."""


def chat_requests(stats: dict[str, int]) -> int:
    return stats.get("requests.chat", stats.get("chat", 0))


async def run_stage(store: Store, component: Any, config: ComponentConfig, instance: Instance,
                    repo_dir: Path, rules: list[Rule], *, default: str = "I do not know.",
                    log: logging.Logger | None = None) -> StageRun:
    """One localizer run through the stage cache, against a new scripted server."""
    ingest_instances(store, [instance], "tests", "test")  # a re-ingest of the same row is a no-op
    config_hash = config.hash()
    async with StoreWriter(store) as writer:
        async with scripted_service(store, writer, Script(default=default, rules=rules)) as (
                service, server):
            model = service.handle(Binding(instance_id=instance.instance_id, stage="localize",
                                           config_hash=config_hash))
            ctx = StageContext(model=model, repo_dir=repo_dir,
                               log=log or logging.getLogger("swepipe.localize"))
            cache = StageCache(store, writer, "localize", config_hash)
            result = await cache.get_or_compute(instance, lambda: component.locate(instance, ctx))
            await service.drain()
            return StageRun(result, chat_requests(server.stats()))
