import asyncio
import dataclasses
import logging

import duckdb
import pytest

from swepipe.errors import ModelError
from swepipe.models import EndpointSettings, OpenAIClient, ScriptedServer
from swepipe.models.handle import Binding, ModelService
from swepipe.models.scripted_rules import Rule, RuleError, Script
from swepipe.protocols import Model, StageContext
from swepipe.store.call_cache import CallCache
from swepipe.store.writer import StoreWriter
from swepipe.types import Message, SamplingParams

SECRET = "sk-test-0123456789-secret"


@pytest.fixture
def server():
    script = Script(default="fine", rules=[
        Rule(pattern="refuse", error=RuleError(status=400, message="prompt too long")),
        Rule(pattern="sample", reply=["a", "b", "c"])])
    with ScriptedServer(script) as srv:
        yield srv


async def run_calls(store, server, calls, *, policy="use", env_key=None, monkeypatch=None):
    """Run `calls(handle)` with a fresh service (as a new process would) and return its stats."""
    settings = EndpointSettings(base_url=server.base_url, max_retries=1, backoff_base_s=0.01,
                                api_key_env="SWEPIPE_TEST_KEY")
    async with StoreWriter(store) as writer, OpenAIClient(settings) as client:
        service = ModelService(client, writer, CallCache(store), model="scripted-coder",
                               weights_revision="rev-1")
        handle = service.handle(Binding(run_id="r1", instance_id="i1", stage="localize",
                                        config_hash="c" * 64, policy=policy))
        result = await calls(handle)
        await service.drain()
    return service, result


def chat_requests(server):
    return server.stats().get("requests.chat", server.stats().get("chat", 0))


async def test_every_call_writes_one_sequence_row_with_its_conversation(store, server):
    msgs = [Message(role="system", content="be brief"), Message(role="user", content="hello")]
    _, completion = await run_calls(store, server, lambda h: h.chat(msgs, trajectory_id="t", turn=2))
    assert completion.text == "fine" and completion.sequence_id
    (row,) = store.query("SELECT * FROM sequences").to_pylist()
    assert (row["sequence_id"], row["run_id"], row["instance_id"], row["stage"], row["model"],
            row["weights_revision"], row["trajectory_id"], row["turn"], row["status"]) == (
        completion.sequence_id, "r1", "i1", "localize", "scripted-coder", "rev-1", "t", 2, "ok")
    assert row["prompt_tokens"] > 0 and row["completion_tokens"] > 0 and row["attempts"] == 1
    texts = store.query("SELECT list(c.text ORDER BY m.i) AS texts FROM (SELECT unnest(messages) "
                        "AS m0, generate_subscripts(messages, 1) AS i FROM sequences) AS m(m, i) "
                        "JOIN contents AS c ON c.content_hash = m.m.content_hash").to_pylist()
    assert texts == [{"texts": ["be brief", "hello"]}]


async def test_identical_request_is_answered_from_the_store_in_a_new_process(store, server):
    msgs = [Message(role="user", content="hello")]
    await run_calls(store, server, lambda h: h.chat(msgs))
    before = server.stats()
    service, completion = await run_calls(store, server, lambda h: h.chat(msgs))
    assert completion.from_cache and completion.text == "fine"
    assert service.calls == 0 and service.hits == 1
    assert server.stats() == before  # no HTTP request was made
    rows = store.query("SELECT from_cache, latency_s FROM sequences ORDER BY created_at").to_pylist()
    assert [r["from_cache"] for r in rows] == [False, True] and rows[1]["latency_s"] == 0.0


async def test_resumed_samples_only_pay_for_the_missing_ones(store, server):
    msgs = [Message(role="user", content="sample a fix")]
    params = SamplingParams(temperature=0.8)

    async def samples(handle, n):
        return await asyncio.gather(*(handle.chat(msgs, params, sample_idx=k) for k in range(n)))

    await run_calls(store, server, lambda h: samples(h, 37))
    service, results = await run_calls(store, server, lambda h: samples(h, 40))
    assert service.calls == 3 and service.hits == 37
    assert [r.from_cache for r in results] == [True] * 37 + [False] * 3


async def test_off_policy_bypasses_the_cache_but_logs(store, server):
    msgs = [Message(role="user", content="hello")]
    await run_calls(store, server, lambda h: h.chat(msgs))
    service, completion = await run_calls(store, server, lambda h: h.chat(msgs), policy="off")
    assert service.calls == 1 and not completion.from_cache
    assert store.query("SELECT count(*) AS n FROM sequences WHERE NOT from_cache").to_pylist() == [
        {"n": 2}]


async def test_failed_call_is_a_row_with_the_reason(store, server):
    async def refused(handle):
        with pytest.raises(ModelError, match="prompt too long"):
            await handle.chat([Message(role="user", content="please refuse")])

    await run_calls(store, server, refused)
    (row,) = store.query("SELECT status, error, attempts FROM sequences").to_pylist()
    assert row["status"] == "failed" and "prompt too long" in row["error"] and row["attempts"] == 1


async def test_forty_samples_store_a_shared_long_prompt_once(store, server):
    prompt = "x" * 200_000
    msgs = [Message(role="user", content=prompt)]

    async def samples(handle):
        return await asyncio.gather(*(handle.chat(msgs, SamplingParams(temperature=1), sample_idx=k)
                                      for k in range(40)))

    await run_calls(store, server, samples)
    counts = store.query("SELECT (SELECT count(*) FROM sequences) AS seqs, "
                         "(SELECT count(*) FROM contents WHERE length(text) = 200000) AS prompts"
                         ).to_pylist()
    assert counts == [{"seqs": 40, "prompts": 1}]


async def test_api_key_is_sent_but_never_stored_or_logged(store, monkeypatch, caplog):
    monkeypatch.setenv("SWEPIPE_TEST_KEY", SECRET)
    caplog.set_level(logging.DEBUG)
    with ScriptedServer(Script(api_key=SECRET, default="authorized")) as srv:
        _, completion = await run_calls(store, srv, lambda h: h.chat(
            [Message(role="user", content="hi")]))
    assert completion.text == "authorized"  # the server checked the Bearer key
    with duckdb.connect(str(store.path)) as conn:
        tables = [r[0] for r in conn.execute("SHOW TABLES").fetchall()]
        dump = "".join(repr(conn.execute(f'SELECT * FROM "{t}"').fetchall()) for t in tables)
    assert SECRET not in dump and "sequences" in tables
    assert SECRET not in caplog.text


def test_components_reach_models_only_through_a_logging_handle():
    # StageContext carries a Model handle and nothing that could reach an endpoint directly
    fields = {f.name for f in dataclasses.fields(StageContext)}
    assert fields.isdisjoint({"endpoint", "base_url", "client", "api_key", "backend", "settings"})
    from types import SimpleNamespace

    from swepipe.models.handle import ModelHandle
    assert isinstance(ModelHandle(SimpleNamespace(model="m"), Binding()), Model)
    assert set(vars(ModelHandle)) & {"settings", "client", "base_url"} == set()


async def test_training_export_carries_messages_ids_and_rewards(store, server, tmp_path):
    import pyarrow.parquet as pq

    from swepipe.store.store import insert_rows
    from swepipe.store.training_export import SequenceFilter, export_sequences

    msgs = [Message(role="user", content="sample a fix")]
    await run_calls(store, server, lambda h: h.chat(msgs, SamplingParams(n=2), sample_idx=0))
    with store.transaction() as conn:
        insert_rows(conn, "rewards", [{"instance_id": "i1", "stage": "localize",
                                       "config_hash": "c" * 64, "sample_idx": 0,
                                       "metric": "file_recall", "value": 0.5}])
    rows, paths = export_sequences(store, tmp_path / "out", SequenceFilter(stage="localize"),
                                   jsonl=True)
    table = pq.read_table(paths[0]).to_pylist()
    assert rows == 2 and [r["choice_idx"] for r in table] == [0, 1]
    assert table[0]["messages"] == [{"role": "user", "content": "sample a fix"},
                                    {"role": "assistant", "content": "a"}]
    assert table[1]["messages"][-1]["content"] == "b"
    assert table[0]["rewards"] == [{"metric": "file_recall", "value": 0.5, "level": "sample"}]
    assert export_sequences(store, tmp_path / "o2", SequenceFilter(stage="generate"))[0] == 0


async def test_cost_prices_tokens_per_config(store, server, tmp_path):
    from swepipe.store.cost import cost_table, load_prices

    await run_calls(store, server, lambda h: h.chat([Message(role="user", content="hello")]))
    prices = tmp_path / "prices.toml"
    prices.write_text('[models."scripted-coder"]\ninput_per_mtok = 1e6\noutput_per_mtok = 2e6\n')
    (row,) = cost_table(store, load_prices(prices)).to_pylist()
    assert row["calls"] == 1
    assert row["cost_usd"] == row["prompt_tokens"] * 1 + row["completion_tokens"] * 2


class InstantBackend:
    """A `ChatBackend` that answers without suspending: the tightest timing a fast server can
    produce, where one caller's call finishes before a waiting twin resumes."""

    def __init__(self) -> None:
        self.requests = 0

    async def chat(self, model, messages, params):
        from swepipe.models.client import CallResult
        from swepipe.types import Choice, Completion

        self.requests += 1
        return CallResult(Completion(model=model, choices=[Choice(text="same")]), attempts=1)

    async def tokenize(self, model, text):
        return None


async def test_identical_concurrent_requests_make_one_call_whatever_the_timing(store):
    # both lookups share one batch and miss; the first caller's call completes before the
    # second resumes, which then finds the answer in memory instead of calling again
    backend = InstantBackend()
    msgs = [Message(role="user", content="the same prompt")]
    async with StoreWriter(store) as writer:
        service = ModelService(backend, writer, CallCache(store), model="m")
        handle = service.handle(Binding(run_id="r", instance_id="i", stage="generate"))
        replies = await asyncio.gather(*(handle.chat(msgs) for _ in range(3)))
        await service.drain()
    assert backend.requests == 1 and service.calls == 1 and service.hits == 2
    assert sorted(r.from_cache for r in replies) == [False, True, True]


async def test_cost_counts_a_call_once_when_its_instance_is_in_two_datasets(store, server,
                                                                            tmp_path, capsys):
    from swepipe.cli import main
    from swepipe.datasets.ingest import ingest_instances
    from swepipe.types import Instance

    instance = Instance(instance_id="i1", repo="o/r", base_commit="abc", problem_statement="p")
    ingest_instances(store, [instance], "lite", "test")
    ingest_instances(store, [instance], "verified", "test")
    await run_calls(store, server, lambda h: h.chat([Message(role="user", content="hello")]))
    assert main(["--store", str(store.path), "cost"]) == 0
    out = capsys.readouterr().out
    assert "lite+verified" in out and "total: 1 calls" in out
    assert "cost_usd is blank for models without a price (scripted-coder): pass --prices FILE" in out
    prices = tmp_path / "prices.yaml"
    prices.write_text("models:\n  scripted-coder: {input_per_mtok: 1, output_per_mtok: 1}\n")
    assert main(["--store", str(store.path), "cost", "--prices", str(prices)]) == 0
    out = capsys.readouterr().out
    assert "USD" in out.splitlines()[-1] and "blank" not in out
