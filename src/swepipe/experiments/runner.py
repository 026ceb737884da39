"""The runner: instances flow localize -> generate -> select, in memory, through the stage caches.

Stages hand their results to the next stage directly; the store is written for caching and
analysis, never read as the channel between stages (a cached result is read back once, by the
stage cache, instead of being computed). Each stage has its own concurrency bound. Ctrl-C
cancels what is in flight (nothing half-done is written) and lets queued commits finish, so the
store resumes cleanly. `run_instance` is what an RL rollout worker calls for one instance.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from swepipe import __version__
from swepipe.datasets.ingest import load_instances
from swepipe.errors import InputError
from swepipe.execute.executors import Executors
from swepipe.experiments.config import BuiltStage, ModelConfig, PipelineConfig, build_stages
from swepipe.experiments.run_store import RunStore, StoreRunStore
from swepipe.models.client import OpenAIClient
from swepipe.models.embedder import EndpointEmbedder
from swepipe.models.handle import Binding, ModelService
from swepipe.models.redact import redact_text
from swepipe.models.scripted_rules import Script, load_script
from swepipe.models.scripted_server import ScriptedServer
from swepipe.models.settings import EndpointSettings
from swepipe.protocols import StageContext
from swepipe.repos.checkout import CheckoutConfig, Checkouts
from swepipe.store.configs import config_row, register_configs
from swepipe.store.stage_cache import StageResult
from swepipe.store.store import Store
from swepipe.store.writer import StoreWriter
from swepipe.types import STAGES, Instance, Selection, StageName

log = logging.getLogger("swepipe.runner")


@dataclass
class StageCounts:
    done: int = 0
    cached: int = 0
    failed: int = 0
    in_flight: int = 0

    def add(self, result: StageResult[Any]) -> None:
        if result.status == "failed":
            self.failed += 1
        elif result.from_cache:
            self.cached += 1
        else:
            self.done += 1


@dataclass
class InstanceOutcome:
    instance_id: str
    results: dict[StageName, StageResult[Any]] = field(default_factory=dict)

    @property
    def selection(self) -> Selection | None:
        sel = self.results.get("select")
        return sel.value if sel is not None and sel.status == "done" else None

    @property
    def failed(self) -> bool:
        return any(r.status == "failed" for r in self.results.values())


class Runner:
    """Use `async with Runner.open(store, config) as runner:` then `run()` or `run_instance()`."""

    def __init__(self, view: RunStore, config: PipelineConfig,
                 stages: dict[StageName, BuiltStage], services: dict[str, ModelService],
                 run_id: str, *, embedder: EndpointEmbedder | None = None,
                 store: Store | None = None, executors: Executors | None = None) -> None:
        # every read and write of the store goes through `view` (experiments/run_store.py);
        # `store` is only the driver's, for listing instances (None on a Ray worker)
        self.store, self.config, self.stages = store, config, stages
        self.writer, self.services, self.run_id = view.writer, services, run_id
        self.caches = {s: view.stage_cache(s, b.hash, policy=config.cache.get(s, "use"),
                                           retry_failed=config.retry_failed, run_id=run_id)
                       for s, b in stages.items()}
        self.gates = {s: asyncio.Semaphore(config.concurrency.get(s, 8)) for s in STAGES}
        self.counts = {s: StageCounts() for s in STAGES}
        self.checkouts = Checkouts(CheckoutConfig(cache_dir=config.cache_dir / "checkouts",
                                                  repos_dir=config.repos_dir,
                                                  trees_dir=config.trees_dir))
        # given: the run's checks found the harness images in it (preflight.docker_executors)
        self.executors = executors if executors is not None else Executors(
            config.execution, sandbox=config.sandbox, docker=config.docker)
        # selectors that run tests on candidates read and extend the matrix in `test_runs`
        self.test_matrix = view.test_matrix()
        self.embedder = embedder

    @classmethod
    @asynccontextmanager
    async def open(cls, store: Store, config: PipelineConfig, *, run_id: str | None = None,
                   executors: Executors | None = None) -> AsyncIterator[Runner]:
        """A local run on `store`: registers the run, and marks it finished when the block ends."""
        stages = build_stages(config)
        run_id = run_id or uuid.uuid4().hex[:12]
        register_run(store, config, stages, run_id)
        status = "failed"
        async with StoreWriter(store) as writer:
            try:
                async with cls.started(StoreRunStore(store, writer), config, stages, run_id,
                                       store=store, executors=executors) as runner:
                    yield runner
                status = "finished"
            except (KeyboardInterrupt, asyncio.CancelledError):
                status = "interrupted"
                raise
            finally:
                await writer.close()
                finish_run(store, run_id, status)

    @classmethod
    @asynccontextmanager
    async def started(cls, view: RunStore, config: PipelineConfig,
                      stages: dict[StageName, BuiltStage], run_id: str, *,
                      store: Store | None = None,
                      executors: Executors | None = None) -> AsyncIterator[Runner]:
        """A runner on `view` with its model services and embedder open (what a local run and a
        Ray worker share); every call's row is handed to the writer before the block ends."""
        async with AsyncExitStack() as stack:
            services: dict[str, ModelService] = {}
            for built in stages.values():
                if built.model is not None and _model_key(built.model) not in services:
                    services[_model_key(built.model)] = await stack.enter_async_context(
                        model_service(view, built.model))
            embedder = None
            if config.embedder is not None:
                embedder = await _embedder(stack, config, services)
            try:
                yield cls(view, config, stages, services, run_id, embedder=embedder,
                          store=store, executors=executors)
            finally:
                for service in services.values():
                    await service.drain()

    def instances(self) -> list[Instance]:
        return select_instances(self.store, self.config)

    def _context(self, stage: StageName, instance: Instance, repo_dir: Any) -> StageContext:
        built = self.stages[stage]
        model = None
        if built.model is not None:
            model = self.services[_model_key(built.model)].handle(Binding(
                run_id=self.run_id, instance_id=instance.instance_id, stage=stage,
                config_hash=built.hash, policy=self.config.cache.get(stage, "use")))
        return StageContext(model=model, repo_dir=repo_dir, executor=self.executors(instance),
                            embedder=self.embedder,
                            log=logging.getLogger(f"swepipe.{stage}"),
                            extras={"test_matrix": self.test_matrix,
                                    "cache_dir": self.config.cache_dir})

    async def _repo_dir(self, instance: Instance) -> Any:
        if self.config.repos_dir is None and self.config.trees_dir is None:
            return None
        return await self.checkouts.checkout_async(instance.repo, instance.base_commit,
                                                   instance.instance_id)

    async def _stage(self, stage: StageName, instance: Instance,
                     call: Callable[[StageContext], Awaitable[Any]]) -> StageResult[Any]:
        async def compute() -> Any:
            async with self.gates[stage]:
                self.counts[stage].in_flight += 1
                try:
                    return await call(self._context(stage, instance, await self._repo_dir(instance)))
                finally:
                    self.counts[stage].in_flight -= 1

        result = await self.caches[stage].get_or_compute(instance, compute)
        self.counts[stage].add(result)
        return result

    async def run_instance(self, instance: Instance) -> InstanceOutcome:
        """One instance through the three stages (what an RL rollout worker calls)."""
        out = InstanceOutcome(instance.instance_id)
        loc = out.results["localize"] = await self._stage(
            "localize", instance, lambda ctx: self.stages["localize"].component.locate(instance, ctx))
        if loc.status != "done":
            return out
        gen = out.results["generate"] = await self._stage(
            "generate", instance,
            lambda ctx: self.stages["generate"].component.generate(instance, loc.value, ctx))
        if gen.status != "done":
            return out
        out.results["select"] = await self._stage(
            "select", instance,
            lambda ctx: self.stages["select"].component.select(instance, gen.value, ctx))
        return out

    async def run(self, instances: list[Instance] | None = None) -> list[InstanceOutcome]:
        instances = instances if instances is not None else self.instances()
        for cache in self.caches.values():
            cache.prefetch(instances)
        return list(await asyncio.gather(*(self.run_instance(i) for i in instances)))

    def token_totals(self) -> dict[str, int]:
        return {"calls": sum(s.calls for s in self.services.values()),
                "cache_hits": sum(s.hits for s in self.services.values()),
                "prompt_tokens": sum(s.prompt_tokens for s in self.services.values()),
                "completion_tokens": sum(s.completion_tokens for s in self.services.values())}


def select_instances(store: Store, config: PipelineConfig) -> list[Instance]:
    """The instances `config` runs over: its dataset's, filtered by `instances` and `limit`
    (what a local and a Ray run start from); InputError when none match."""
    found = load_instances(store, config.dataset, config.instances, config.limit)
    if not found:
        raise InputError(f"dataset {config.dataset!r} has no matching instances "
                         "(run `swepipe ingest` first)", field="dataset")
    return found


def register_run(store: Store, config: PipelineConfig, stages: dict[StageName, BuiltStage],
                 run_id: str) -> None:
    """Record the stages' configs and a `running` row for this run."""
    with store.transaction() as conn:
        register_configs(conn, [config_row(s, b.config.component, b.config.code_version,
                                           b.params, b.upstream) for s, b in stages.items()])
        conn.execute("INSERT INTO runs (run_id, experiment, dataset, settings, swepipe_version)"
                     " VALUES (?, ?, ?, ?, ?)",
                     [run_id, config.name, config.dataset,
                      redact_text(config.model_dump_json(exclude={"model": {"endpoint"}})),
                      __version__])


def finish_run(store: Store, run_id: str, status: str) -> None:
    with store.transaction() as conn:
        conn.execute("UPDATE runs SET status = ?, finished_at = now() WHERE run_id = ?",
                     [status, run_id])


async def _embedder(stack: AsyncExitStack, config: PipelineConfig,
                    services: dict[str, ModelService]) -> EndpointEmbedder:
    spec = config.embedder
    if spec.endpoint is not None:
        client = await stack.enter_async_context(OpenAIClient(spec.endpoint))
    elif services:  # the model's endpoint serves embeddings too (vLLM can; the scripted one does)
        client = next(iter(services.values())).backend
    else:
        raise InputError("embedder.endpoint is not set and no stage uses a model whose "
                         "endpoint could serve embeddings", field="embedder.endpoint")
    embedder = EndpointEmbedder(client, spec.name, spec.dim)
    if spec.dim is None:  # indexes are keyed by (name, dim): learn the size with one call
        await embedder.embed(["dimension probe"])
    return embedder


def _model_key(model: ModelConfig) -> str:
    return json.dumps(model.model_dump(mode="json"), sort_keys=True)


@asynccontextmanager
async def model_service(view: RunStore, model: ModelConfig) -> AsyncIterator[ModelService]:
    """The run's service for one model: its endpoint, or (none configured) the scripted server
    on `model.script` (a file, or a bundled script's name such as `minibench`) in this process."""
    async with AsyncExitStack() as stack:
        settings = model.endpoint
        if settings is None:
            script = load_script(model.script) if model.script else Script()
            server = stack.enter_context(ScriptedServer(script))
            settings = EndpointSettings(max_retries=2, backoff_base_s=0.01, timeout_s=30,
                                        base_url=server.base_url)
        client = await stack.enter_async_context(OpenAIClient(settings))
        service = ModelService(client, view.writer, view.call_cache(), model=model.name,
                               weights_revision=model.weights_revision)
        try:
            yield service
        finally:
            await service.drain()
