"""The worker side of `--executor ray`: run a chunk of instances without touching the store.

A worker gets each instance together with the cached results of the stages already done (the
driver read them), runs the ordinary `Runner.run_instance` with a `CollectingWriter` and a
`MemoryCallCache`, and returns its writes as one `ArrowBatch`. Nothing here imports Ray:
`ray_executor` wraps `PipelineWorker` as an actor, and tests can call it directly.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from swepipe import event_loop
from swepipe.experiments.config import ModelConfig, PipelineConfig, build_stages
from swepipe.experiments.runner import InstanceOutcome, Runner, StageCounts, _model_key
from swepipe.models.client import OpenAIClient
from swepipe.models.handle import ModelService
from swepipe.models.scripted_rules import Script, load_script
from swepipe.models.scripted_server import ScriptedServer
from swepipe.models.settings import EndpointSettings
from swepipe.store.collecting_writer import ArrowBatch, CollectingWriter, MemoryCallCache
from swepipe.store.stage_cache import StageCache, StageResult
from swepipe.types import STAGES, Completion, Instance, StageName


@dataclass
class WorkItem:
    """An instance to run and what the store already holds for it."""

    instance: Instance
    cached: dict[StageName, StageResult[Any]] = field(default_factory=dict)
    """Results of the stages already done (or failed and not retried), read by the driver."""
    calls: dict[str, Completion] = field(default_factory=dict)
    """Stored model calls of the stages still to run (request hash -> completion), so a
    resumed instance repeats no call the store already has."""


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


class PipelineWorker:
    """Builds the pipeline once; `run` computes one chunk per call (a Ray actor's method)."""

    def __init__(self, config: PipelineConfig, run_id: str,
                 sys_path: Sequence[str] = ()) -> None:
        # components the driver imports from its own path (a project checkout, tests/) must
        # import here too; on a local cluster the driver's path is valid on the worker
        sys.path.extend(p for p in sys_path if p not in sys.path)
        self.config, self.run_id = config, run_id
        self.stages = build_stages(config)
        # survives across chunks: an identical request made for an earlier chunk is reused
        self.calls = MemoryCallCache()

    def run(self, items: list[WorkItem]) -> ChunkResult:
        # the coroutine is a module function: Ray turns a class with any `async def` method
        # into an async actor, which would run chunks concurrently in one loop
        return event_loop.run(_run_chunk(self, items))


async def _run_chunk(worker: PipelineWorker, items: list[WorkItem]) -> ChunkResult:
    writer = CollectingWriter()
    for item in items:
        worker.calls.seed(item.calls)
    caches = {s: SeededStageCache(writer, s, b.hash,
                                  {i.instance.instance_id: i.cached[s]
                                   for i in items if s in i.cached},
                                  policy=worker.config.cache.get(s, "use"),
                                  retry_failed=worker.config.retry_failed, run_id=worker.run_id)
              for s, b in worker.stages.items()}
    async with AsyncExitStack() as stack:
        services: dict[str, ModelService] = {}
        for built in worker.stages.values():
            if built.model is not None and _model_key(built.model) not in services:
                services[_model_key(built.model)] = await stack.enter_async_context(
                    worker_service(writer, worker.calls, built.model))
        runner = Runner(None, worker.config, worker.stages, writer, services,  # type: ignore[arg-type]
                        worker.run_id, caches=caches)
        outcomes = list(await asyncio.gather(*(runner.run_instance(i.instance)
                                               for i in items)))
        for service in services.values():
            await service.drain()  # every call's row is collected before packing
    return ChunkResult(outcomes, ArrowBatch.pack(writer.take()),
                       {s: runner.counts[s] for s in STAGES}, runner.token_totals())


@asynccontextmanager
async def worker_service(writer: CollectingWriter, cache: MemoryCallCache,
                         model: ModelConfig) -> AsyncIterator[ModelService]:
    """The model service of a worker: like the runner's, but with a store-free call cache.
    With no endpoint configured each worker serves the script itself (as a local run does)."""
    async with AsyncExitStack() as stack:
        settings = model.endpoint
        if settings is None:
            script = load_script(model.script) if model.script else Script()
            server = stack.enter_context(ScriptedServer(script))
            settings = EndpointSettings(max_retries=2, backoff_base_s=0.01, timeout_s=30,
                                        base_url=server.base_url)
        client = await stack.enter_async_context(OpenAIClient(settings))
        service = ModelService(client, writer, cache, model=model.name,  # type: ignore[arg-type]
                               weights_revision=model.weights_revision)
        try:
            yield service
        finally:
            await service.drain()
