"""`swepipe evaluate`: run the gold tests of every current candidate and record them in `test_runs`.

A candidate is keyed by its content hash, so a diff produced by several configs or samples runs
once, and a second `evaluate` runs nothing that already has rows. Each candidate's outcomes commit
together. Candidates that do not apply, or are unsafe, get one row per gold test with status
`error` and the reason as output, so they score as failing rather than as missing.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

from swepipe.errors import InputError
from swepipe.execute.executors import Executors
from swepipe.execute.gold_tests import GoldTestConfig, GoldTestResult, run_gold_tests
from swepipe.protocols import Executor
from swepipe.repos.checkout import CheckoutConfig, Checkouts, require_dir
from swepipe.store.sql_files import load_query
from swepipe.store.store import Store, insert_rows
from swepipe.types import Instance

_KIND = {"FAIL_TO_PASS": "fail_to_pass", "PASS_TO_PASS": "pass_to_pass"}


@dataclass
class EvaluateReport:
    candidates: int
    resolved: int
    errors: int


def test_run_rows(instance_id: str, run_hash: str, result: GoldTestResult,
                  executor: str) -> list[dict]:
    if result.status != "ok":
        return [{"instance_id": instance_id, "patch_hash": run_hash, "test_kind": _KIND[kind],
                 "test_id": test_id, "status": "error", "output": result.reason,
                 "executor": executor} for test_id, kind in result.kinds.items()]
    return [{"instance_id": instance_id, "patch_hash": run_hash,
             "test_kind": _KIND[result.kinds[o.test_id]], "test_id": o.test_id,
             "status": o.status, "exit_code": result.exit_code, "duration_s": o.duration_s,
             "executor": executor} for o in result.outcomes]


def _instance(store: Store, instance_id: str, revision: int) -> Instance:
    (row,) = store.query("SELECT * FROM instances WHERE instance_id = ? AND revision = ?",
                         [instance_id, revision]).to_pylist()
    row["extra"] = json.loads(row["extra"]) if row["extra"] else {}
    return Instance.model_validate(row)


async def evaluate(store: Store, executor: Executor | Executors, repos_dir: Path | None,
                   cache_dir: Path, *, config: str | None = None, concurrency: int = 2,
                   tests: GoldTestConfig | None = None) -> EvaluateReport:
    """`executor` runs every candidate; `Executors` picks one per instance (Docker: its image,
    all looked up before anything runs). `repos_dir` may be None with Docker: the images hold
    the repository, and the host's path checks need no checkout (`execute/docker.py`)."""
    executors = Executors.wrap(executor)
    if repos_dir is not None:
        require_dir(repos_dir, "--repos-dir")  # else every candidate would fail the same way
    elif executors.needs_checkout:
        raise InputError("--repos-dir is required with --executor local (the tests run in a "
                         "checkout of each instance's repository)")
    todo = store.query(load_query("store/candidates_to_evaluate"), {"config": config}).to_pylist()
    await asyncio.to_thread(executors.prepare, (r["instance_id"] for r in todo))
    checkouts = (Checkouts(CheckoutConfig(cache_dir=cache_dir, repos_dir=repos_dir))
                 if repos_dir is not None else None)
    report = EvaluateReport(len(todo), 0, 0)
    with tempfile.TemporaryDirectory(prefix="swepipe-no-checkout-") as empty:
        run = _Evaluation(store, executors, checkouts, Path(empty),
                          asyncio.Semaphore(concurrency), tests, report)
        await asyncio.gather(*(run.one(row) for row in todo))
    return report


@dataclass
class _Evaluation:
    """What the candidates of one `evaluate` share."""

    store: Store
    executors: Executors
    checkouts: Checkouts | None
    empty: Path  # the repository argument without checkouts (the image holds the code)
    gate: asyncio.Semaphore
    tests: GoldTestConfig | None
    report: EvaluateReport

    async def one(self, row: dict) -> None:
        """Run one candidate's gold tests, count it in `report` and commit its rows."""
        instance = _instance(self.store, row["instance_id"], row["revision"])
        async with self.gate:
            repo = (await self.checkouts.checkout_async(instance.repo, instance.base_commit)
                    if self.checkouts is not None else self.empty)
            runner = self.executors(instance)
            result = await run_gold_tests(instance, row["diff"], runner, repo, self.tests)
        self.report.resolved += result.resolved
        self.report.errors += result.status != "ok"
        rows = test_run_rows(instance.instance_id, row["run_hash"], result, type(runner).__name__)
        await asyncio.to_thread(_commit, self.store, rows)


def _commit(store: Store, rows: list[dict]) -> None:
    with store.transaction() as conn:
        insert_rows(conn, "test_runs", rows, ignore_existing=True)
