"""The API key goes to the server in the Authorization header and nowhere else."""

from __future__ import annotations

import logging

import pytest

from swepipe.models import ModelCallError, OpenAIClient, Script, ScriptedServer
from swepipe.types import Message

KEY = "sk-test-5f3a9c0e1d"


async def test_api_key_is_sent_in_the_authorization_header(settings_for, monkeypatch):
    monkeypatch.setenv("SWEPIPE_TEST_KEY", KEY)
    with ScriptedServer(Script(api_key=KEY)) as srv:
        async with OpenAIClient(settings_for(base_url=srv.base_url,
                                             api_key_env="SWEPIPE_TEST_KEY")) as client:
            result = await client.chat("m", [Message(role="user", content="hi")])
    assert result.completion.text == "OK"
    assert KEY not in repr(result) and KEY not in str(result.request_json)


async def test_missing_key_is_a_401_without_retries(settings_for, monkeypatch):
    monkeypatch.delenv("SWEPIPE_TEST_KEY", raising=False)
    with ScriptedServer(Script(api_key=KEY)) as srv:
        async with OpenAIClient(settings_for(base_url=srv.base_url,
                                             api_key_env="SWEPIPE_TEST_KEY")) as client:
            with pytest.raises(ModelCallError) as info:
                await client.chat("m", [Message(role="user", content="hi")])
    assert info.value.status == 401 and info.value.attempts == 1


async def test_api_key_never_appears_in_repr_str_logs_or_errors(settings_for, monkeypatch,
                                                                caplog):
    caplog.set_level(logging.DEBUG)  # httpx and httpcore trace requests at DEBUG
    monkeypatch.setenv("SWEPIPE_TEST_KEY", KEY)
    messages = [Message(role="user", content="hi")]
    with ScriptedServer(Script(api_key=KEY)) as srv:
        srv.inject("server_error")  # one retry, so the retry log line is written too
        settings = settings_for(base_url=srv.base_url, api_key_env="SWEPIPE_TEST_KEY")
        async with OpenAIClient(settings) as client:
            assert (await client.chat("m", messages)).attempts == 2
            texts = [repr(settings), str(settings), settings.model_dump_json(), repr(client),
                     str(client)]
    # A server that wants another key echoes the one it got, as hosted APIs do.
    with ScriptedServer(Script(api_key="sk-the-right-one")) as srv:
        async with OpenAIClient(settings_for(base_url=srv.base_url,
                                             api_key_env="SWEPIPE_TEST_KEY")) as client:
            with pytest.raises(ModelCallError) as info:
                await client.chat("m", messages)
    texts += [repr(info.value), str(info.value), caplog.text]
    assert "Incorrect API key provided: [redacted]" in str(info.value)
    assert "retrying" in caplog.text
    for text in texts:
        assert KEY not in text
