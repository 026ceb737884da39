"""`PipelineExperiment`: the seed's `Experiment` protocol over a pipeline config.

The RL infrastructure calls `run(instance_id, model_endpoint)` for one rollout and `hypers()` for
the settings it sweeps. The endpoint is a runtime setting: it changes where calls go, never the
config hashes; `weights_revision` (the checkpoint being trained) is identity and is recorded on
every sequence. Give the policy's stage `cache.<stage> = "off"` so rollouts are always fresh while
fixed stages (e.g. localization) are answered from the store.
"""

from __future__ import annotations

from typing import Any

from swepipe.datasets.ingest import load_instances
from swepipe.errors import InputError
from swepipe.experiments.config import PipelineConfig, expand_hypers
from swepipe.experiments.runner import InstanceOutcome, Runner
from swepipe.models.settings import EndpointSettings
from swepipe.store.store import Store
from swepipe.types import Selection


class PipelineExperiment:
    """Implements `protocols.Experiment`."""

    def __init__(self, store: Store, config: PipelineConfig) -> None:
        self.store, self.config = store, config

    def hypers(self) -> list[dict[str, Any]]:
        return [v.model_dump(mode="json", exclude={"hypers"}) for v in expand_hypers(self.config)]

    def with_endpoint(self, model_endpoint: str) -> PipelineConfig:
        endpoint = (self.config.model.endpoint or EndpointSettings()).model_copy(
            update={"base_url": model_endpoint.rstrip("/")})
        model = self.config.model.model_copy(update={"endpoint": endpoint})
        return self.config.model_copy(update={"model": model})

    async def rollout(self, instance_id: str, model_endpoint: str) -> InstanceOutcome:
        config = self.with_endpoint(model_endpoint)
        instances = load_instances(self.store, config.dataset, [instance_id])
        if not instances:
            raise InputError(f"instance {instance_id!r} is not in dataset {config.dataset!r}")
        async with Runner.open(self.store, config) as runner:
            return await runner.run_instance(instances[0])

    async def run(self, instance_id: str, model_endpoint: str) -> Selection:
        outcome = await self.rollout(instance_id, model_endpoint)
        if outcome.selection is None:
            failed = {s: r.error for s, r in outcome.results.items() if r.status == "failed"}
            raise InputError(f"{instance_id}: no selection ({failed})")
        return outcome.selection
