"""Fault handling of OpenAIClient against the scripted server (real HTTP on loopback)."""

from __future__ import annotations

import time

import pytest

from swepipe.errors import ModelError
from swepipe.models import ModelCallError, OpenAIClient, Script, ScriptedServer
from swepipe.models.scripted_rules import FAULT_KINDS, Faults
from swepipe.types import Message

REASON = {"rate_limit": "rate_limited", "server_error": "server_error", "slow": "timeout",
          "drop": "connection", "malformed": "malformed", "truncated": "truncated"}


def user(text: str) -> list[Message]:
    return [Message(role="user", content=text)]


@pytest.mark.parametrize("kind", FAULT_KINDS)
async def test_each_fault_kind_is_retried_and_succeeds(server, client, kind):
    server.inject(kind, 2)
    result = await client.chat("m", user("call-7"))
    assert result.completion.text == "done 7"
    assert result.attempts == 3
    assert server.stats()[f"fault.{kind}"] == 2
    assert server.stats()["chat"] == 3


@pytest.mark.parametrize("kind", FAULT_KINDS)
async def test_each_fault_kind_ends_in_model_error_with_reason_when_retries_run_out(
        server, settings_for, kind):
    server.inject(kind, 10)
    async with OpenAIClient(settings_for(max_retries=1)) as client:
        with pytest.raises(ModelError) as info:
            await client.chat("m", user("call-1"))
    err = info.value
    assert isinstance(err, ModelCallError)
    assert (err.reason, err.attempts) == (REASON[kind], 2)
    assert str(err).startswith(f"{REASON[kind]} after 2 attempts")
    assert server.stats()["chat"] == 2


async def test_429_with_retry_after_is_retried_after_the_wait(settings_for):
    with ScriptedServer(Script(faults=Faults(retry_after_s=1))) as srv:
        srv.inject("rate_limit")
        async with OpenAIClient(settings_for(base_url=srv.base_url)) as client:
            start = time.perf_counter()
            result = await client.chat("m", user("hi"))
            elapsed = time.perf_counter() - start
    assert result.attempts == 2
    assert elapsed >= 1.0  # backoff alone would be ~1 ms


async def test_retry_after_beyond_the_time_budget_fails_without_waiting(settings_for):
    with ScriptedServer(Script(faults=Faults(retry_after_s=60))) as srv:
        srv.inject("rate_limit")
        async with OpenAIClient(settings_for(base_url=srv.base_url, max_retry_time_s=5)) as c:
            start = time.perf_counter()
            with pytest.raises(ModelCallError) as info:
                await c.chat("m", user("hi"))
    assert time.perf_counter() - start < 2
    assert info.value.reason == "rate_limited" and info.value.attempts == 1
    assert "Retry-After 60 s" in str(info.value)


async def test_total_retry_time_is_bounded_even_with_retries_left(server, settings_for):
    server.inject("server_error", 1000)
    settings = settings_for(max_retries=1000, max_retry_time_s=0.3, backoff_base_s=0.02,
                            backoff_max_s=0.05)
    async with OpenAIClient(settings) as client:
        start = time.perf_counter()
        with pytest.raises(ModelCallError) as info:
            await client.chat("m", user("hi"))
    assert time.perf_counter() - start < 1.5
    assert 1 < info.value.attempts < 1000


async def test_400_fails_at_once_with_the_server_message(server, client):
    with pytest.raises(ModelCallError) as info:
        await client.chat("m", user("this is forbidden"))
    assert info.value.attempts == 1 and info.value.status == 400
    assert info.value.reason == "http_400"
    assert "prompt rejected" in str(info.value)
    assert server.stats()["chat"] == 1


async def test_context_length_error_is_not_retried(settings_for):
    with ScriptedServer(Script(max_model_len=10)) as srv:
        async with OpenAIClient(settings_for(base_url=srv.base_url)) as client:
            with pytest.raises(ModelCallError, match="maximum context length is 10 tokens"):
                await client.chat("m", user("x" * 100))
        assert srv.stats()["chat"] == 1


async def test_unknown_model_is_a_404_error(settings_for):
    with ScriptedServer(Script(models=["served"])) as srv:
        async with OpenAIClient(settings_for(base_url=srv.base_url)) as client:
            assert (await client.chat("served", user("hi"))).attempts == 1
            with pytest.raises(ModelCallError, match="does not exist") as info:
                await client.chat("other", user("hi"))
    assert info.value.status == 404


async def test_requests_per_minute_limit_spaces_requests(server, settings_for):
    # 6000/min is a bucket of 100 per second: 100 go at once, the other 50 take 0.5 s.
    async with OpenAIClient(settings_for(requests_per_minute=6000)) as client:
        import asyncio
        start = time.perf_counter()
        await asyncio.gather(*(client.chat("m", user(f"call-{i}")) for i in range(150)))
    assert time.perf_counter() - start >= 0.45


async def test_tokens_per_minute_limit_spaces_requests(server, settings_for):
    # 60,000 tokens/min is a 10,000-token bucket over 10 s (1000/s); each call is 249 tokens,
    # so 43 calls need 10,707: the last 707 wait 0.7 s.
    async with OpenAIClient(settings_for(tokens_per_minute=60_000)) as client:
        import asyncio
        start = time.perf_counter()
        await asyncio.gather(*(client.chat("m", user("x" * 996)) for _ in range(43)))
    assert time.perf_counter() - start >= 0.65


async def test_concurrency_never_exceeds_max_concurrency(settings_for):
    import asyncio
    with ScriptedServer(Script(), latency_ms=20) as srv:
        async with OpenAIClient(settings_for(base_url=srv.base_url, max_concurrency=3)) as c:
            await asyncio.gather(*(c.chat("m", user("hi")) for _ in range(12)))
        assert srv.stats()["max_inflight"] == 3
