"""The candidate x test matrix: outcomes read from `test_runs` when known, run only when missing.

## Contract

A runner that wants test results reused across runs puts a `TestMatrix` in
`ctx.extras["test_matrix"]` (a `StoreTestMatrix` on the run's store and writer). Selectors that
execute tests (`test_vote`, `codemonkeys`, `agentless`) call `ensure(...)`, which

1. asks the matrix for the cells it needs: keys `(patch_hash, test_kind, test_id)` of one
   instance, where `patch_hash` is the candidate's content hash ('' = original code, which an
   empty candidate also is) and `test_id` is the sha256 of a script's text (as the CodeMonkeys
   migration writes it) or a test id such as `tests/test_x.py::test_y`;
2. runs only the missing cells, with the executor in `ctx.executor`;
3. records the new outcomes (`record` is idempotent: a key already present is kept, so two
   processes that ran the same cell do not conflict), and returns every requested cell.

On a Ray worker the matrix is a `SnapshotTestMatrix`: the driver reads the stored cells of the
instances it sends (`snapshot_rows`, one query per chunk) and the worker's new cells travel back
with the chunk's other rows. An instance runs on one worker at a time, so that snapshot is all a
local run's lookups could see.

Without a matrix in `extras` the selector uses a `MemoryTestMatrix`: correct, but nothing is
reused beyond the call. Without an executor, missing cells are `missing` and nothing runs.
Script texts are recorded in `contents` under their test id, so `test_runs` rows can be read back
as scripts (`SELECT text FROM contents WHERE content_hash = test_id`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa
from pydantic import BaseModel

from swepipe.errors import ExecutionError
from swepipe.execute.workcopy import PatchRejected
from swepipe.protocols import Executor
from swepipe.select.script_runner import ScriptRunConfig, StatusFn, run_scripts
from swepipe.store.sql_files import load_query
from swepipe.store.store import Store, insert_rows
from swepipe.store.writer import RowsCommit, StoreWriter

log = logging.getLogger("swepipe.select")

RunKey = tuple[str, str, str]
"""(patch_hash, test_kind, test_id) within one instance."""


def script_id(text: str) -> str:
    """The `test_id` of a test script: sha256 of its text (what the CodeMonkeys import uses)."""
    return hashlib.sha256(text.encode()).hexdigest()


class TestRun(BaseModel):
    """One cell of the matrix: a test's outcome on one candidate (one `test_runs` row)."""

    __test__ = False  # not a pytest class

    patch_hash: str
    test_kind: str
    """`generated` (CodeMonkeys scripts), `reproduction`, `regression`, `fail_to_pass`, ..."""
    test_id: str
    status: str
    """passed | failed | error | skipped | timeout | missing"""
    exit_code: int | None = None
    duration_s: float | None = None
    output: str | None = None
    executor: str | None = None

    @property
    def key(self) -> RunKey:
        return (self.patch_hash, self.test_kind, self.test_id)


@runtime_checkable
class TestMatrix(Protocol):
    """Where test outcomes are looked up and recorded (see the module docstring)."""

    async def lookup(self, instance_id: str, keys: Iterable[RunKey]) -> dict[RunKey, TestRun]:
        """The recorded cells among `keys`; unknown keys are absent from the result."""
        ...

    async def record(self, instance_id: str, runs: Sequence[TestRun],
                     texts: Mapping[str, str] | None = None) -> None:
        """Store outcomes (keys already present are kept) and script texts by test id."""
        ...


class MemoryTestMatrix:
    """A matrix that lives as long as the object: for tests and runs without a store."""

    def __init__(self) -> None:
        self.cells: dict[tuple[str, RunKey], TestRun] = {}
        self.texts: dict[str, str] = {}

    async def lookup(self, instance_id: str, keys: Iterable[RunKey]) -> dict[RunKey, TestRun]:
        return {k: self.cells[(instance_id, k)] for k in keys if (instance_id, k) in self.cells}

    async def record(self, instance_id: str, runs: Sequence[TestRun],
                     texts: Mapping[str, str] | None = None) -> None:
        for run in runs:
            self.cells.setdefault((instance_id, run.key), run)
        self.texts.update(texts or {})


class StoreTestMatrix:
    """The matrix in the store's `test_runs` table. Writes go through the run's `StoreWriter`
    when given (group commit, FIFO with the stage results), else one short transaction each."""

    def __init__(self, store: Store, writer: StoreWriter | None = None) -> None:
        self.store, self.writer = store, writer

    async def lookup(self, instance_id: str, keys: Iterable[RunKey]) -> dict[RunKey, TestRun]:
        wanted = set(keys)
        if not wanted:
            return {}
        params = {"instance_id": instance_id, "patches": sorted({k[0] for k in wanted}),
                  "kinds": sorted({k[1] for k in wanted})}
        table = await asyncio.to_thread(self.store.query,
                                        load_query("select/test_matrix_lookup"), params)
        runs = (TestRun.model_validate(row) for row in table.to_pylist())
        return {run.key: run for run in runs if run.key in wanted}

    async def record(self, instance_id: str, runs: Sequence[TestRun],
                     texts: Mapping[str, str] | None = None) -> None:
        unit = record_unit(instance_id, runs, texts)
        if unit is None:
            return
        if self.writer is not None:
            await self.writer.commit(unit)
            return

        def write() -> None:
            with self.store.transaction() as conn:
                for name, part in unit.tables.items():
                    if part:
                        insert_rows(conn, name, part, ignore_existing=True)

        await asyncio.to_thread(write)


class SnapshotTestMatrix(MemoryTestMatrix):
    """The matrix of a process without the store (a Ray worker): the cells the driver read for
    the instances it sent, plus what this process ran; new cells go to `writer` as rows."""

    def __init__(self, snapshot: Iterable[Mapping[str, Any]], writer: Any) -> None:
        super().__init__()
        self.writer = writer
        for row in snapshot:
            run = TestRun.model_validate(row)
            self.cells.setdefault((row["instance_id"], run.key), run)

    async def record(self, instance_id: str, runs: Sequence[TestRun],
                     texts: Mapping[str, str] | None = None) -> None:
        await super().record(instance_id, runs, texts)
        unit = record_unit(instance_id, runs, texts)
        if unit is not None:
            await self.writer.commit(unit)


def snapshot_rows(store: Store, instance_ids: Sequence[str]) -> pa.Table:
    """Every stored cell of these instances, for a `SnapshotTestMatrix` (one query)."""
    return store.query(load_query("select/test_matrix_snapshot"),
                       {"instance_ids": list(instance_ids)})


def record_unit(instance_id: str, runs: Sequence[TestRun],
                texts: Mapping[str, str] | None = None) -> RowsCommit | None:
    """The writer unit that records `runs` (one row per key) and script `texts`; None if empty."""
    rows = list({r.key: {"instance_id": instance_id, **r.model_dump()} for r in runs}.values())
    tables: dict[str, list[dict[str, Any]]] = {"test_runs": rows}
    if texts:
        tables["contents"] = [{"content_hash": k, "text": v} for k, v in texts.items()]
    if not rows and not texts:
        return None
    return RowsCommit(tables, ignore_existing=frozenset(tables))


class MatrixFill(BaseModel):
    """What `ensure_scripts` returns: every requested cell, and how many scripts it ran."""

    cells: dict[RunKey, TestRun]
    executed: int = 0


def matrix_of(ctx_extras: Mapping[str, Any]) -> TestMatrix:
    """The run's matrix from `ctx.extras["test_matrix"]`, else a fresh in-memory one."""
    found = ctx_extras.get("test_matrix")
    return found if found is not None else MemoryTestMatrix()


async def ensure_scripts(matrix: TestMatrix, executor: Executor | None, repo_dir: Path | None,
                         instance_id: str, diffs: Mapping[str, str], scripts: Sequence[str],
                         kind: str, status: StatusFn, config: ScriptRunConfig) -> MatrixFill:
    """Every script on every candidate (`diffs`: patch_hash -> diff; include '' for the
    original code), reading known cells from `matrix` and running only the missing ones."""
    ids = {script_id(s): s for s in scripts}
    keys = [(h, kind, t) for h in diffs for t in ids]
    cells = await matrix.lookup(instance_id, keys)
    todo: dict[str, list[str]] = {}
    for h, _, t in keys:
        if (h, kind, t) not in cells:
            todo.setdefault(h, []).append(t)
    if not todo:
        return MatrixFill(cells=cells)
    if executor is None or repo_dir is None:
        for h, tests in todo.items():
            cells.update({(h, kind, t): TestRun(patch_hash=h, test_kind=kind, test_id=t,
                                                status="missing") for t in tests})
        return MatrixFill(cells=cells)
    gate = asyncio.Semaphore(max(config.concurrency, 1))
    executor_name = type(executor).__name__

    async def run_batch(h: str, tests: list[str]) -> list[TestRun]:
        async with gate:
            try:
                results = await run_scripts(executor, Path(repo_dir), diffs[h],
                                            [ids[t] for t in tests], config)
            except PatchRejected as exc:  # deterministic: record it, never run it again
                return [TestRun(patch_hash=h, test_kind=kind, test_id=t, status="error",
                                output=str(exc), executor=executor_name) for t in tests]
            except ExecutionError as exc:  # possibly transient: report, do not record
                log.warning("%s: tests on %s could not run: %s", instance_id, h[:12] or "''", exc)
                return [TestRun(patch_hash=h, test_kind=kind, test_id=t, status="missing",
                                output=str(exc)) for t in tests]
        return [TestRun(patch_hash=h, test_kind=kind, test_id=t, status=status(r),
                        exit_code=r.exit_code, duration_s=round(r.duration_s, 4),
                        output=r.output, executor=executor_name)
                for t, r in zip(tests, results)]

    size = max(config.batch_size, 1)
    batches = [(h, tests[i:i + size]) for h, tests in todo.items()
               for i in range(0, len(tests), size)]
    done = [run for part in await asyncio.gather(*(run_batch(h, b) for h, b in batches))
            for run in part]
    fresh = [r for r in done if r.status != "missing"]
    await matrix.record(instance_id, fresh, {t: ids[t] for t in {r.test_id for r in fresh}})
    cells.update({r.key: r for r in done})
    return MatrixFill(cells=cells, executed=len(fresh))
