"""The scripted server itself: script files, seeded faults and latency, CLI wiring, stats."""

from __future__ import annotations

import argparse
import asyncio
import json

import httpx
import pytest

from swepipe.errors import InputError
from swepipe.models import Script, ScriptedServer
from swepipe.models.commands import register, serve_scripted_command
from swepipe.models.scripted_app import ScriptedApp
from swepipe.models.scripted_rules import Faults, Latency, Replier, Rule, load_script


def test_yaml_script_file_is_loaded(tmp_path):
    path = tmp_path / "script.yaml"
    path.write_text('default: "hello"\nrules:\n  - pattern: "fix (\\\\w+)"\n'
                    '    reply: "fixed \\\\1"\nfaults: {rate: 0.5, kinds: [drop]}\n')
    script = load_script(path)
    assert script.default == "hello" and script.rules[0].reply == "fixed \\1"
    assert script.faults.table() == [("drop", 0.5)]


def test_json_script_file_is_loaded(tmp_path):
    path = tmp_path / "script.json"
    path.write_text(json.dumps({"queue": ["one", ["a", "b"]], "latency": {"mean_ms": 5}}))
    assert load_script(path).queue == ["one", ["a", "b"]]


def test_invalid_script_names_the_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("rules:\n  - pattern: x\n")  # neither reply nor error
    with pytest.raises(InputError, match="bad.yaml"):
        load_script(path)


def test_literal_rules_send_backslashes_as_written_and_others_expand_groups():
    code = r'print("a\nb")  # \1 is not a group here'
    replier = Replier(Script(rules=[Rule(pattern=r"lit-(\d)", reply=code, literal=True),
                                    Rule(pattern=r"tpl-(\d)", reply=r"group \1\nline")]))
    assert replier.replies([{"role": "user", "content": "lit-7"}], 1, None) == [code]
    assert replier.replies([{"role": "user", "content": "tpl-7"}], 1, None) == ["group 7\nline"]


def test_seeded_faults_repeat_exactly():
    script = Script(faults=Faults(rate=0.5, seed=3))
    first, second = Replier(script), Replier(script)
    assert [first.draw_fault() for _ in range(200)] == [second.draw_fault() for _ in range(200)]


def test_fault_rate_is_close_to_the_setting():
    replier = Replier(Script(faults=Faults(rate=0.2, seed=1)))
    faults = [replier.draw_fault() for _ in range(10_000)]
    assert 0.18 < sum(f is not None for f in faults) / 10_000 < 0.22
    assert len({f for f in faults if f}) == 6


def test_latency_distributions_are_seeded_and_have_the_mean():
    for dist in ("fixed", "uniform", "exponential", "lognormal"):
        script = Script(latency=Latency(mean_ms=50, distribution=dist, spread_ms=10, seed=7))
        a, b = Replier(script), Replier(script)
        xs = [a.draw_latency_s() for _ in range(4000)]
        assert xs == [b.draw_latency_s() for _ in range(4000)]
        assert 0.04 < sum(xs) / len(xs) < 0.06, dist


async def test_latency_counts_from_the_arrival_of_the_request():
    # a real server's latency includes its own parsing and queueing, so the scripted one holds
    # each reply until `latency` after the request arrived, not `latency` after parsing it
    app = ScriptedApp(Script(default="ok", latency=Latency(mean_ms=1000)))
    body = json.dumps({"model": "m", "messages": [{"role": "user", "content": "hi"}]}).encode()
    loop = asyncio.get_running_loop()
    start = loop.time()
    fresh = await app.handle("POST", "/v1/chat/completions", {}, body, received_at=start)
    assert loop.time() - start >= 0.99
    start = loop.time()
    late = await app.handle("POST", "/v1/chat/completions", {}, body, received_at=start - 0.9)
    assert loop.time() - start < 0.6
    assert fresh.status == late.status == 200


def test_models_endpoint_and_stats_count_requests():
    with ScriptedServer(Script(models=["a", "b"])) as srv:
        ids = [m["id"] for m in httpx.get(f"{srv.base_url}/models").json()["data"]]
        httpx.post(f"{srv.base_url}/chat/completions", content=b"{not json")
        stats = httpx.get(srv.base_url.removesuffix("/v1") + "/_stats").json()
    assert ids == ["a", "b"]
    assert (stats["models"], stats["chat"], stats["status.400"]) == (1, 1, 1)


def test_serve_scripted_command_is_registered_with_its_options():
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["serve-scripted", "--host", "127.0.0.1", "--port", "0",
                              "--latency-ms", "100", "--fault-rate", "0.2",
                              "--script", "s.yaml"])
    assert args.handler is serve_scripted_command
    assert (args.port, args.latency_ms, args.fault_rate, args.script) == (0, 100.0, 0.2, "s.yaml")


def test_fault_rate_outside_zero_to_one_is_an_input_error():
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    with pytest.raises(InputError, match="fault-rate"):
        serve_scripted_command(parser.parse_args(["serve-scripted", "--fault-rate", "2"]))


def test_server_stops_cleanly_with_a_slow_reply_pending():
    with ScriptedServer(Script(faults=Faults(slow_s=60))) as srv:
        srv.inject("slow")
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(f"{srv.base_url}/chat/completions", timeout=0.2,
                       json={"model": "m", "messages": [{"role": "user", "content": "x"}]})
    assert srv.stats()["fault.slow"] == 1


def test_serve_scripted_command_answers_on_the_port_it_prints():
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-m", "swepipe.cli", "serve-scripted", "--port", "0",
                             "--latency-ms", "1"], stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().split()[-1]
        reply = httpx.post(f"{url}/chat/completions", timeout=10, json={
            "model": "m", "messages": [{"role": "user", "content": "hi"}]}).json()
        assert reply["choices"][0]["message"]["content"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
