"""Fixtures: a scripted server on a free loopback port and clients with fast retries."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import pytest

from swepipe.models import EndpointSettings, OpenAIClient, Script, ScriptedServer
from swepipe.models.scripted_rules import Faults, Rule


@pytest.fixture
def script() -> Script:
    return Script(
        default="default reply",
        rules=[Rule(pattern=r"call-(\d+)", reply=r"done \1"),
               Rule(pattern="forbidden", error={"status": 400, "message": "prompt rejected"}),
               Rule(pattern="pick", reply=["a", "b", "c"])],
        # slow replies take longer than the test clients' 0.5 s timeout
        faults=Faults(retry_after_s=0.0, slow_s=5.0))


@pytest.fixture
def server(script: Script) -> Iterator[ScriptedServer]:
    with ScriptedServer(script) as srv:
        yield srv


@pytest.fixture
def settings_for(server: ScriptedServer) -> Callable[..., EndpointSettings]:
    def make(**kw: object) -> EndpointSettings:
        base = dict(base_url=server.base_url, api_key_env=None, timeout_s=0.5, max_retries=3,
                    max_retry_time_s=10, backoff_base_s=0.001, backoff_max_s=0.01)
        return EndpointSettings(**{**base, **kw})
    return make


@pytest.fixture
async def client(settings_for: Callable[..., EndpointSettings]) -> AsyncIterator[OpenAIClient]:
    async with OpenAIClient(settings_for()) as c:
        yield c
