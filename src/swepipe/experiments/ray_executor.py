"""`swepipe run --executor ray`: instances spread over Ray workers, one store written by the driver.

The driver writes the store; workers never open it. It prefetches every stage cache, so an
instance whose stages are all cached is answered on the spot (a second run starts no worker
task), and sends the others in chunks to `workers` actors, each chunk with the cached results of
its instances' finished stages and their stored test-matrix cells. Model calls go through the
run's one call broker (experiments/ray_calls.py), an actor on this node that reads the store's
stored calls read-only. A worker runs the ordinary runner on its side of the store seam
(experiments/run_store.py, ray_worker.py) and returns its writes as Arrow tables
(`ArrowBatch`); the driver commits each batch with `write_units` in one transaction, which
numbers the attempts - so resume, attempts and duplicate-dropping are exactly the local
runner's. Each actor holds up to two chunks, so it computes the next one while the driver
commits the last.

Ray: `ray.init(num_cpus=workers)` on this machine, unless `address` (or `$RAY_ADDRESS`) names
a cluster, or Ray is already initialised in this process. Paths in the config (repos, cache,
a script file) are made absolute and must be valid on every node (a shared filesystem); a
bundled script's name (`minibench`) stays a name.
"""

from __future__ import annotations

import math
import os
import sys
import time
import uuid
from typing import Any


from swepipe.errors import InputError
from swepipe.experiments.config import BuiltStage, PipelineConfig, build_stages
from swepipe.experiments.ray_calls import CallBroker
from swepipe.experiments.ray_worker import Chunk, ChunkResult, PipelineWorker, WorkItem
from swepipe.experiments.runner import (InstanceOutcome, StageCounts, finish_run,
                                        register_run, select_instances)
from swepipe.models.scripted_rules import NAMED_SCRIPTS
from swepipe.select.test_matrix import snapshot_rows
from swepipe.store.stage_cache import StageCache, StageResult
from swepipe.store.store import Store
from swepipe.store.writer import StageCommit, write_units
from swepipe.types import STAGES, Instance, StageName

PER_ACTOR_IN_FLIGHT = 2


def run_with_ray(store: Store, config: PipelineConfig, workers: int = 2, *,
                 chunk_size: int | None = None, address: str | None = None,
                 run_id: str | None = None, quiet: bool = False) -> list[InstanceOutcome]:
    """Run `config` over its dataset on `workers` Ray actors; returns one outcome per instance
    (in instance-id order, as the local runner does)."""
    import ray  # optional extra: `pip install swepipe[ray]`

    if workers < 1:
        raise InputError("--workers must be at least 1", field="workers")
    config = _absolute_paths(config)
    stages = build_stages(config)
    run_id = run_id or uuid.uuid4().hex[:12]
    instances = select_instances(store, config)
    register_run(store, config, stages, run_id)
    started, status = time.perf_counter(), "failed"
    counts = {s: StageCounts() for s in STAGES}
    tokens: dict[str, int] = {}
    actors: list[Any] = []  # the call broker and the workers, killed when the run ends
    try:
        outcomes, items = plan(store, config, stages, instances, counts)
        if items:
            _ensure_ray(ray, workers, address)
            broker = _broker(ray, store)
            actor_cls = ray.remote(num_cpus=1)(PipelineWorker)
            actors = [broker] + [actor_cls.remote(config, run_id, broker, list(sys.path))
                                 for _ in range(min(workers, len(items)))]
            pool = actors[1:]
            size = chunk_size or max(1, min(50, math.ceil(len(items) / (len(pool) * 3))))
            chunks = [items[k:k + size] for k in range(0, len(items), size)]
            in_flight: dict[Any, Any] = {}

            def submit(actor: Any) -> None:
                if chunks:
                    part = chunks.pop(0)
                    # the chunk's test-matrix cells as stored now (one query per chunk)
                    tests = snapshot_rows(store, [i.instance.instance_id for i in part])
                    in_flight[actor.run.remote(Chunk(part, tests))] = actor

            for actor in pool:
                for _ in range(PER_ACTOR_IN_FLIGHT):
                    submit(actor)
            while in_flight:
                (ref,), _ = ray.wait(list(in_flight), num_returns=1)
                submit(in_flight.pop(ref))
                result: ChunkResult = ray.get(ref)
                commit_chunk(store, result)
                for o in result.outcomes:
                    outcomes[o.instance_id] = o
                for s in STAGES:
                    _add_counts(counts[s], result.counts[s])
                for k, v in result.tokens.items():
                    tokens[k] = tokens.get(k, 0) + v
        status = "finished"
    except KeyboardInterrupt:
        status = "interrupted"  # committed chunks stay; a rerun resumes from them
        raise
    finally:
        for actor in actors:
            ray.kill(actor)
        finish_run(store, run_id, status)
    if not quiet:
        _report(run_id, counts, tokens, len(instances), time.perf_counter() - started)
    return [outcomes[i.instance_id] for i in instances]


def plan(store: Store, config: PipelineConfig, stages: dict[StageName, BuiltStage],
         instances: list[Instance],
         counts: dict[StageName, StageCounts]) -> tuple[dict[str, InstanceOutcome], list[WorkItem]]:
    """Outcomes of the instances the stage caches answer entirely, and work for the rest.

    Walks each instance through the stages as `Runner.run_instance` would: a cached `done`
    result moves on, a cached failure (not retried) ends the instance, anything else is work.
    Stored model calls are not attached: workers ask the run's call broker."""
    caches = {s: StageCache(store, None, s, b.hash,  # type: ignore[arg-type] - reads only
                            policy=config.cache.get(s, "use"), retry_failed=config.retry_failed)
              for s, b in stages.items()}
    for cache in caches.values():
        cache.prefetch(instances)
    finished: dict[str, InstanceOutcome] = {}
    items: list[WorkItem] = []
    for instance in instances:
        cached: dict[StageName, StageResult[Any]] = {}
        needs_work = False
        for stage in STAGES:
            hit = caches[stage].cached(instance)
            if hit is None:
                needs_work = True
                break
            cached[stage] = hit
            if hit.status != "done":
                break
        if needs_work:
            items.append(WorkItem(instance, cached))
        else:  # answered by the cache: done everywhere, or a failure that is kept
            finished[instance.instance_id] = InstanceOutcome(instance.instance_id, cached)
            for stage, result in cached.items():
                counts[stage].add(result)
    return finished, items


def commit_chunk(store: Store, result: ChunkResult) -> None:
    """Commit a worker's batch in one transaction and number its results' attempts."""
    units = result.batch.units()
    with store.transaction() as conn:
        attempts = write_units(conn, units)
    by_key = {(u.stage, u.instance_id): a for u, a in zip(units, attempts)
              if isinstance(u, StageCommit)}
    for outcome in result.outcomes:
        for stage, stage_result in outcome.results.items():
            if not stage_result.from_cache:
                stage_result.attempt = by_key.get((stage, outcome.instance_id))


def _broker(ray: Any, store: Store) -> Any:
    """The run's call broker (experiments/ray_calls.py): an actor on this node, where the store
    file is, holding no CPU so that every CPU goes to a worker."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
    return ray.remote(num_cpus=0, scheduling_strategy=here)(CallBroker).remote(
        str(store.path.absolute()), store.lock_timeout_s)


def _ensure_ray(ray: Any, workers: int, address: str | None) -> None:
    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address)
    else:
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=True)


def _absolute_paths(config: PipelineConfig) -> PipelineConfig:
    """Workers may not share the driver's working directory: make runtime paths absolute."""
    model = config.model
    if model.script and model.script not in NAMED_SCRIPTS:  # `minibench` is a name, not a file
        model = model.model_copy(update={"script": os.path.abspath(model.script)})
    return config.model_copy(update={
        "repos_dir": config.repos_dir.absolute() if config.repos_dir else None,
        "trees_dir": config.trees_dir.absolute() if config.trees_dir else None,
        "cache_dir": config.cache_dir.absolute(), "model": model})


def _add_counts(total: StageCounts, part: StageCounts) -> None:
    total.done += part.done
    total.cached += part.cached
    total.failed += part.failed


def _report(run_id: str, counts: dict[StageName, StageCounts], tokens: dict[str, int],
            total: int, seconds: float) -> None:
    lines = [f"ray run {run_id} on {total} instances in {seconds:.1f} s"]
    for s in STAGES:
        c = counts[s]
        lines.append(f"  {s:>9}: done {c.done}, from cache {c.cached}, failed {c.failed}")
    lines.append(f"  model calls {tokens.get('calls', 0)} (+{tokens.get('cache_hits', 0)} "
                 f"from cache), tokens {tokens.get('prompt_tokens', 0):,} in / "
                 f"{tokens.get('completion_tokens', 0):,} out")
    print("\n".join(lines), file=sys.stderr)
