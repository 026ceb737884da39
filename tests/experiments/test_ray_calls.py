"""The run's call broker (experiments/ray_calls.py) in this process: what Ray workers share."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from swepipe.errors import StoreError
from swepipe.experiments.ray_calls import WAIT, CallBroker, SharedCallCache, StoredKeys
from swepipe.models.client import OpenAIClient
from swepipe.models.handle import Binding, ModelService
from swepipe.models.local import endpoint_service
from swepipe.models.scripted_rules import Rule, Script
from swepipe.models.scripted_server import ScriptedServer
from swepipe.models.settings import EndpointSettings
from swepipe.store.collecting_writer import CollectingWriter
from swepipe.store.store import insert_rows
from swepipe.store.writer import StoreWriter
from swepipe.types import Message

HELLO = [Message(role="user", content="hello")]


@asynccontextmanager
async def worker(server: ScriptedServer, broker: CallBroker) -> AsyncIterator[ModelService]:
    """A worker's model service: its own client, the broker's call cache, no store."""
    async with OpenAIClient(EndpointSettings(base_url=server.base_url, timeout_s=30)) as client:
        yield ModelService(client, CollectingWriter(), SharedCallCache.of(broker), model="m")


async def test_two_workers_asking_at_once_make_one_call(store):
    store.schema_version()  # the store file exists (the broker opens it read-only)
    script = Script(rules=[Rule(pattern="hello", reply="hi")], latency={"mean_ms": 200})
    with ScriptedServer(script) as server:
        broker = CallBroker(store.path)
        async with worker(server, broker) as a, worker(server, broker) as b:
            replies = await asyncio.gather(*(s.handle(Binding(instance_id=f"i{k}")).chat(HELLO)
                                             for k, s in enumerate((a, b, a, b))))
        assert {r.text for r in replies} == {"hi"}
        assert server.stats()["chat"] == 1
    assert (a.calls + b.calls, a.hits + b.hits) == (1, 3)
    # each worker asks once for its two requests; one of them is told to wait for the other
    assert broker.counters()["waits"] == 1


async def test_a_worker_batches_its_requests_and_results_into_few_round_trips(store):
    store.schema_version()
    script = Script(rules=[Rule(pattern=r"q(\d+)", reply="a\\1")], latency={"mean_ms": 100})
    with ScriptedServer(script) as server:
        async with worker(server, CallBroker(store.path)) as service:
            replies = await asyncio.gather(*(
                service.handle(Binding(instance_id="i")).chat([Message(role="user",
                                                                       content=f"q{k}")])
                for k in range(20)))
            await service.cache.flush()
        assert [r.text for r in replies] == [f"a{k}" for k in range(20)]
        assert server.stats()["chat"] == 20
    # asked together in one round trip; the 20 results go back in far fewer than 20
    assert service.cache.round_trips < 20


async def test_a_failed_call_lets_a_waiting_worker_make_it(store):
    store.schema_version()
    broker = CallBroker(store.path)
    digest = "ef" * 32
    assert await broker.exchange([], [digest]) == [None]  # worker A makes it
    assert await broker.exchange([], [digest]) == [WAIT]  # worker B waits for A
    waiting = asyncio.create_task(broker.wait(digest))
    await asyncio.sleep(0)
    assert not waiting.done()
    await broker.exchange([(digest, None)], [])  # A's call failed
    assert await waiting is None  # B asks again ...
    assert await broker.exchange([], [digest]) == [None]  # ... and makes it now
    assert broker.counters()["waits"] == 1


async def test_the_broker_answers_calls_the_store_already_holds(store):
    with ScriptedServer(Script(rules=[Rule(pattern="hello", reply="hi")])) as server:
        async with StoreWriter(store) as writer:
            async with endpoint_service(store, writer, EndpointSettings(
                    base_url=server.base_url), model="m") as service:
                await service.handle(Binding(instance_id="i")).chat(HELLO)
        broker = CallBroker(store.path)
        async with worker(server, broker) as service:
            reply = await service.handle(Binding(instance_id="i")).chat(HELLO)
        assert reply.from_cache and reply.text == "hi"
        assert server.stats()["chat"] == 1
    assert service.calls == 0 and broker.counters()["hits"] == 1


def test_a_broker_on_a_missing_store_file_fails_clearly(tmp_path):
    with pytest.raises(StoreError, match="absent.duckdb: no store here"):
        CallBroker(tmp_path / "absent.duckdb")


def test_stored_keys_know_the_stored_hashes_and_nothing_else(store):
    digest = "ab" * 32
    with store.transaction() as conn:
        insert_rows(conn, "sequences", [{"sequence_id": "s1", "model": "m", "messages": [],
                                         "request_hash": digest, "status": "ok"},
                                        {"sequence_id": "s2", "model": "m", "messages": [],
                                         "request_hash": "cd" * 32, "status": "failed"}])
    keys = StoredKeys(store)
    assert len(keys) == 1 and keys.may_hold(digest)
    assert not keys.may_hold("cd" * 32) and not keys.may_hold("00" * 32)
