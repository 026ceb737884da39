"""The worker side of `--executor ray`: run a chunk of instances without touching the store.

A worker gets a `Chunk`: each instance with the cached results of its stages already done (the
driver read them) and the stored test-matrix cells of the chunk's instances. It runs the
ordinary runner (`Runner.started`, `run_instance`) on a `ChunkRunStore` - the worker's
implementation of the run's store seam (experiments/run_store.py): stage caches seeded with
those results, a `SnapshotTestMatrix` on those cells, the run's shared call cache
(`SharedCallCache` on the broker, experiments/ray_calls.py) and a `CollectingWriter` - and
returns its writes as one `ArrowBatch`. Nothing here imports Ray: `ray_executor` wraps
`PipelineWorker` as an actor, and tests can call it directly.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from swepipe import event_loop
from swepipe.experiments.config import PipelineConfig, build_stages
from swepipe.experiments.ray_calls import SharedCallCache
from swepipe.experiments.runner import InstanceOutcome, Runner, StageCounts
from swepipe.select.test_matrix import SnapshotTestMatrix, TestMatrix
from swepipe.store.call_cache import CallCache
from swepipe.store.collecting_writer import ArrowBatch, CollectingWriter
from swepipe.store.stage_cache import CachePolicy, StageCache, StageResult
from swepipe.types import STAGES, Instance, StageName


@dataclass
class WorkItem:
    """An instance to run and what the store already holds for it."""

    instance: Instance
    cached: dict[StageName, StageResult[Any]] = field(default_factory=dict)
    """Results of the stages already done (or failed and not retried), read by the driver."""


@dataclass
class Chunk:
    """What the driver sends a worker in one call."""

    items: list[WorkItem]
    tests: pa.Table | None = None
    """The stored `test_runs` cells of these instances (`test_matrix.snapshot_rows`)."""


@dataclass
class ChunkResult:
    outcomes: list[InstanceOutcome]
    batch: ArrowBatch
    counts: dict[StageName, StageCounts]
    tokens: dict[str, int]


class SeededStageCache(StageCache):
    """A stage cache whose cached results were handed over instead of read from the store."""

    def __init__(self, writer: Any, stage: StageName, config_hash: str,
                 seeded: dict[str, StageResult[Any]], **options: Any) -> None:
        super().__init__(None, writer, stage, config_hash, **options)  # type: ignore[arg-type]
        self.seeded = seeded

    def prefetch(self, instances: Sequence[Instance]) -> None:
        """Nothing to read: the driver prefetched."""

    def cached(self, instance: Instance) -> StageResult[Any] | None:
        if self.policy != "use":
            return None
        return self.seeded.get(instance.instance_id)


class ChunkRunStore:
    """The store seam of a worker for one chunk (see the module docstring)."""

    def __init__(self, chunk: Chunk, calls: CallCache) -> None:
        self.writer = CollectingWriter()
        self._chunk, self._calls = chunk, calls
        rows = chunk.tests.to_pylist() if chunk.tests is not None else []
        self._matrix = SnapshotTestMatrix(rows, self.writer)

    def stage_cache(self, stage: StageName, config_hash: str, *, policy: CachePolicy,
                    retry_failed: bool, run_id: str) -> StageCache:
        seeded = {i.instance.instance_id: i.cached[stage]
                  for i in self._chunk.items if stage in i.cached}
        return SeededStageCache(self.writer, stage, config_hash, seeded, policy=policy,
                                retry_failed=retry_failed, run_id=run_id)

    def call_cache(self) -> CallCache:
        return self._calls

    def test_matrix(self) -> TestMatrix:
        return self._matrix


class PipelineWorker:
    """Builds the pipeline once; `run` computes one chunk per call (a Ray actor's method).

    `broker` is the run's `CallBroker`: a Ray actor handle, or the object itself in-process."""

    def __init__(self, config: PipelineConfig, run_id: str, broker: Any,
                 sys_path: Sequence[str] = ()) -> None:
        # components the driver imports from its own path (a project checkout, tests/) must
        # import here too; on a local cluster the driver's path is valid on the worker
        sys.path.extend(p for p in sys_path if p not in sys.path)
        self.config, self.run_id = config, run_id
        self.stages = build_stages(config)
        # survives across chunks: a request answered once is not asked of the broker again
        self.calls = SharedCallCache.of(broker)

    def run(self, chunk: Chunk) -> ChunkResult:
        # the coroutine is a module function: Ray turns a class with any `async def` method
        # into an async actor, which would run chunks concurrently in one loop
        return event_loop.run(_run_chunk(self, chunk))


async def _run_chunk(worker: PipelineWorker, chunk: Chunk) -> ChunkResult:
    view = ChunkRunStore(chunk, worker.calls)
    async with Runner.started(view, worker.config, worker.stages, worker.run_id) as runner:
        outcomes = list(await asyncio.gather(*(runner.run_instance(i.instance)
                                               for i in chunk.items)))
    await worker.calls.flush()  # the broker learns every call made here before the loop ends
    # every call's row is collected once `started` has drained the services
    return ChunkResult(outcomes, ArrowBatch.pack(view.writer.take()),
                       {s: runner.counts[s] for s in STAGES}, runner.token_totals())

