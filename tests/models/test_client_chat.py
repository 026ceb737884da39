"""What chat, embed and tokenize return, against the scripted server."""

from __future__ import annotations

import json
import math
import subprocess
import sys

from swepipe.models import EndpointSettings, OpenAIClient, Script, ScriptedServer, estimate_tokens
from swepipe.models.scripted_rules import embed_text
from swepipe.types import Message, SamplingParams


def user(text: str) -> list[Message]:
    return [Message(role="user", content=text)]


async def test_n_samples_return_n_choices_cycling_the_rule_replies(client):
    result = await client.chat("m", user("pick one"), SamplingParams(n=4))
    assert [c.text for c in result.completion.choices] == ["a", "b", "c", "a"]
    assert result.request_json["n"] == 4


async def test_request_seed_offsets_the_reply_cycle(client):
    result = await client.chat("m", user("pick one"), SamplingParams(n=2, seed=1))
    assert [c.text for c in result.completion.choices] == ["b", "c"]


async def test_rule_groups_are_expanded_in_the_reply(client):
    assert (await client.chat("m", user("please do call-42"))).completion.text == "done 42"


async def test_queue_replies_come_first_in_fifo_order(server, client):
    server.enqueue("first", ["second-0", "second-1"])
    assert (await client.chat("m", user("call-1"))).completion.text == "first"
    second = await client.chat("m", user("call-1"), SamplingParams(n=2))
    assert [c.text for c in second.completion.choices] == ["second-0", "second-1"]
    assert (await client.chat("m", user("call-1"))).completion.text == "done 1"


async def test_unmatched_request_gets_the_default_reply(client):
    assert (await client.chat("m", user("nothing matches"))).completion.text == "default reply"


async def test_last_user_rules_ignore_earlier_messages_but_conversation_rules_see_them(
        settings_for):
    script = Script(rules=[{"pattern": "secret", "reply": "saw it in last"},
                           {"pattern": "secret", "on": "conversation", "reply": "saw it anywhere"}])
    messages = [Message(role="system", content="the secret"), Message(role="user", content="hi")]
    with ScriptedServer(script) as srv:
        async with OpenAIClient(settings_for(base_url=srv.base_url)) as client:
            assert (await client.chat("m", messages)).completion.text == "saw it anywhere"
            assert (await client.chat("m", user("secret"))).completion.text == "saw it in last"


async def test_stop_and_max_tokens_cut_the_reply_and_set_finish_reason(server, client):
    server.enqueue("alpha beta gamma", "0123456789abcdef")
    stopped = await client.chat("m", user("x"), SamplingParams(stop=[" gamma"]))
    assert (stopped.completion.text, stopped.completion.choices[0].finish_reason) == \
        ("alpha beta", "stop")
    cut = await client.chat("m", user("x"), SamplingParams(max_tokens=2))
    assert (cut.completion.text, cut.completion.choices[0].finish_reason) == ("01234567", "length")


async def test_usage_follows_the_estimate_and_repeated_prompts_report_cached_tokens(client):
    prompt = user("a prompt of some length " * 10)
    first = await client.chat("m", prompt)
    again = await client.chat("m", prompt)
    expected = estimate_tokens(prompt[0].content)
    assert first.completion.usage.prompt_tokens == expected
    assert first.completion.usage.completion_tokens == estimate_tokens("default reply")
    assert (first.completion.usage.cached_tokens, again.completion.usage.cached_tokens) == \
        (0, expected)
    assert first.completion.latency_s > 0


async def test_token_ids_and_logprobs_are_kept_when_the_server_returns_them(settings_for):
    with ScriptedServer(Script(default="twelve bytes")) as srv:
        async with OpenAIClient(settings_for(base_url=srv.base_url, want_token_ids=True)) as c:
            choice = (await c.chat("m", user("x"))).completion.choices[0]
        async with OpenAIClient(settings_for(base_url=srv.base_url,
                                             extra_body={"return_token_ids": True})) as c:
            plain = (await c.chat("m", user("x"))).completion.choices[0]
    assert choice.token_ids is not None and len(choice.token_ids) == 3
    assert choice.logprobs is not None and len(choice.logprobs) == 3
    assert plain.token_ids == choice.token_ids and plain.logprobs is None


async def test_embeddings_are_unit_length_and_similar_texts_are_closer(client):
    a, b, c = await client.embed("m", ["parse the config file", "parse config files",
                                       "render html template"])
    dot = lambda u, v: sum(x * y for x, y in zip(u, v))  # noqa: E731
    assert math.isclose(dot(a, a), 1.0, rel_tol=1e-9)
    assert dot(a, b) > dot(a, c)


async def test_embeddings_are_batched_and_keep_input_order(settings_for):
    texts = [f"text number {i}" for i in range(10)]
    async with OpenAIClient(settings_for(embed_batch_size=3)) as client:
        vectors = await client.embed("m", texts)
    assert vectors == [embed_text(t, 256) for t in texts]


def test_embeddings_are_identical_across_processes():
    code = ("import json, asyncio\n"
            "from swepipe.models import *\n"
            "async def main():\n"
            "    with ScriptedServer() as srv:\n"
            "        async with OpenAIClient(EndpointSettings(base_url=srv.base_url)) as c:\n"
            "            print(json.dumps(await c.embed('m', ['hello world', 'déjà vu'])))\n"
            "asyncio.run(main())\n")
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           check=True, env={"PYTHONHASHSEED": str(seed)}).stdout
            for seed in (1, 2)]
    assert runs[0] == runs[1]
    assert json.loads(runs[0])[0] == embed_text("hello world", 256)


async def test_tokenize_gives_the_server_count(client):
    text = "def f(x):\n    return x + 1\n"
    assert await client.tokenize("m", text) == estimate_tokens(text)


async def test_tokenize_is_none_without_the_endpoint_and_count_falls_back_to_the_estimate(
        settings_for):
    with ScriptedServer(Script(tokenize_endpoint=False)) as srv:
        async with OpenAIClient(settings_for(base_url=srv.base_url)) as client:
            assert await client.tokenize("m", "hello") is None
            assert await client.count_tokens("m", "héllo wörld") == estimate_tokens("héllo wörld")
        assert srv.stats()["not_found"] == 1  # the missing endpoint is asked about once


def test_estimate_is_utf8_bytes_over_four_rounded_up():
    assert [estimate_tokens(t) for t in ["", "a", "abcd", "abcde", "é", "日本語"]] == \
        [0, 1, 1, 2, 1, 3]


def test_base_url_trailing_slash_and_tokenize_root():
    s = EndpointSettings(base_url="http://gpu:8000/v1/")
    assert (s.base_url, s.server_root) == ("http://gpu:8000/v1", "http://gpu:8000")
