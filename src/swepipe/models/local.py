"""Opening a `ModelService` for a run: against a real endpoint, or the scripted server.

    async with StoreWriter(store) as writer:
        async with scripted_service(store, writer, Script(rules=[...])) as (service, server):
            model = service.handle(Binding(instance_id="x", stage="localize", config_hash=h))
            reply = await model.chat([Message(role="user", content="...")])

Tests, benchmarks and the demo use `scripted_service`: real HTTP on a loopback port, replies from
rules, no network, no downloads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from swepipe.models.client import OpenAIClient
from swepipe.models.handle import ModelService
from swepipe.models.scripted_rules import Script
from swepipe.models.scripted_server import ScriptedServer
from swepipe.models.settings import EndpointSettings
from swepipe.store.call_cache import CallCache
from swepipe.store.store import Store
from swepipe.store.writer import StoreWriter

SCRIPTED_MODEL = "swepipe/scripted"
"""The model name the scripted server answers as (it enters config hashes like any model)."""


@asynccontextmanager
async def endpoint_service(store: Store, writer: StoreWriter, settings: EndpointSettings, *,
                           model: str, weights_revision: str | None = None,
                           ) -> AsyncIterator[ModelService]:
    async with OpenAIClient(settings) as client:
        service = ModelService(client, writer, CallCache(store), model=model,
                               weights_revision=weights_revision)
        try:
            yield service
        finally:
            await service.drain()


@asynccontextmanager
async def scripted_service(store: Store, writer: StoreWriter, script: Script | None = None, *,
                           model: str = SCRIPTED_MODEL, latency_ms: float | None = None,
                           settings: EndpointSettings | None = None,
                           ) -> AsyncIterator[tuple[ModelService, ScriptedServer]]:
    """A service backed by a scripted server started for the duration of the block."""
    with ScriptedServer(script or Script(), latency_ms=latency_ms) as server:
        base = settings or EndpointSettings(max_retries=2, backoff_base_s=0.01, timeout_s=30)
        endpoint = base.model_copy(update={"base_url": server.base_url})
        async with endpoint_service(store, writer, endpoint, model=model) as service:
            yield service, server
