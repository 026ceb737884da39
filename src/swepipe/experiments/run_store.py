"""The seam between a run and the store: everything the runner reads or writes goes through a
`RunStore`, so the same runner works with the store at hand (a local run) or without it (a Ray
worker).

A run touches the store in four ways, and only these:

- `stage_cache(...)`: a stage's cached results (read back instead of computed) and the writes
  of new ones;
- `call_cache()`: model calls whose request already succeeded (one cache per run, shared by
  every model service of it);
- `test_matrix()`: candidate x test outcomes in `test_runs` (what `test_vote`, the
  regression and reproduction filters of `agentless` and the `codemonkeys` selector reuse);
- `writer`: the group-commit writer every row goes through (sequences, contents, test runs).

`StoreRunStore` is the local implementation: a `Store` and its `StoreWriter`. A Ray worker
uses `ChunkRunStore` (experiments/ray_worker.py): results the driver handed over with the
chunk, a snapshot of the chunk's test matrix, the run's shared call cache (an actor on the
driver's node, experiments/ray_calls.py), and a writer that collects rows for the driver to
commit. Components never see either: they get a `StageContext`, whose `extras["test_matrix"]`
is the run's matrix.
"""

from __future__ import annotations

from typing import Any, Protocol

from swepipe.select.test_matrix import StoreTestMatrix, TestMatrix
from swepipe.store.call_cache import CallCache
from swepipe.store.stage_cache import CachePolicy, StageCache
from swepipe.store.store import Store
from swepipe.store.writer import StoreWriter
from swepipe.types import StageName


class RunStore(Protocol):
    """What a run may do with the store (see the module docstring)."""

    writer: Any
    """`StoreWriter`, or anything with its `commit` / `submit` / `close` (a collecting one)."""

    def stage_cache(self, stage: StageName, config_hash: str, *, policy: CachePolicy,
                    retry_failed: bool, run_id: str) -> StageCache:
        """The cache of one stage and config for this run."""
        ...

    def call_cache(self) -> CallCache:
        """The run's call cache (the same object on every call)."""
        ...

    def test_matrix(self) -> TestMatrix:
        """The run's candidate x test matrix (the same object on every call)."""
        ...


class StoreRunStore:
    """A local run's seam: the store file and the run's writer."""

    def __init__(self, store: Store, writer: StoreWriter) -> None:
        self.store, self.writer = store, writer
        self._calls = CallCache(store)
        self._matrix = StoreTestMatrix(store, writer)

    def stage_cache(self, stage: StageName, config_hash: str, *, policy: CachePolicy,
                    retry_failed: bool, run_id: str) -> StageCache:
        return StageCache(self.store, self.writer, stage, config_hash, policy=policy,
                          retry_failed=retry_failed, run_id=run_id)

    def call_cache(self) -> CallCache:
        return self._calls

    def test_matrix(self) -> TestMatrix:
        return self._matrix
