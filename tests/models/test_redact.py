"""Credentials inside an endpoint URL (`user:SECRET@`, `?api-key=SECRET`) never reach an
error, a repr or a log line, and a base URL with a query still works."""

from __future__ import annotations

import logging
import socket

import pytest

from swepipe.models import EndpointSettings, ModelCallError, OpenAIClient, Script, ScriptedServer
from swepipe.models.redact import redact_text, redact_url, url_secrets
from swepipe.models.scripted_rules import Rule, RuleError
from swepipe.types import Message

PASSWORD, QUERY_KEY = "pw-5e3cr3t-1", "qk-5e3cr3t-2"


@pytest.mark.parametrize("url, want", [
    ("https://user:pw-1234@h.example/v1", "https://[redacted]@h.example/v1"),
    ("https://tok-1234@h.example/v1", "https://[redacted]@h.example/v1"),
    ("https://h/v1?api-version=2024-06-01&api-key=S1",
     "https://h/v1?api-version=2024-06-01&api-key=[redacted]"),
    ("https://h/v1?key=S1&token=S2&access_token=S3&sig=S4",
     "https://h/v1?key=[redacted]&token=[redacted]&access_token=[redacted]&sig=[redacted]"),
    ("https://h/o?X-Amz-Signature=S1&X-Amz-Credential=S2&api_key=S3&apiKey=S4",
     "https://h/o?X-Amz-Signature=[redacted]&X-Amz-Credential=[redacted]&api_key=[redacted]"
     "&apiKey=[redacted]"),
    ("https://h/cb#access_token=S1&state=x", "https://h/cb#access_token=[redacted]&state=x"),
    ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1"),
    ("http://[::1/v1?key=S1", "[redacted]"),  # unparseable: nothing of it is shown
])
def test_redact_url(url: str, want: str):
    assert redact_url(url) == want


def test_redact_url_is_idempotent():
    once = redact_url("https://user:pw-1234@h:8/v1?api-key=S1")
    assert redact_url(once) == once == "https://[redacted]@h:8/v1?api-key=[redacted]"
    assert redact_text(f"cannot reach {once}: refused") == f"cannot reach {once}: refused"


def test_url_secrets_are_the_password_and_key_values_raw_and_decoded():
    url = "https://user:p%40ss-word@h/v1?api-key=abcd%2Fef&x=1&sig=no"
    found = url_secrets(url)
    assert set(found) == {"user:p%40ss-word", "user:p@ss-word", "p%40ss-word", "p@ss-word",
                          "abcd%2Fef", "abcd/ef"}  # `sig=no` is too short to look for in text
    assert [len(s) for s in found] == sorted(map(len, found), reverse=True)


def test_redact_text_finds_urls_and_echoed_secrets_in_free_text():
    url = f"https://user:{PASSWORD}@h/v1?api-key={QUERY_KEY}"
    text = f'POST {url}/chat: bad key {QUERY_KEY} {{"base_url": "{url}"}}'
    out = redact_text(text, url_secrets(url))
    assert PASSWORD not in out and QUERY_KEY not in out
    assert out.startswith("POST https://[redacted]@h/v1?api-key=[redacted]")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _secret_url(host_port: str) -> str:
    return f"http://user:{PASSWORD}@{host_port}/v1?api-version=1&api-key={QUERY_KEY}"


async def test_failed_call_error_repr_and_logs_hold_no_url_secret(caplog):
    caplog.set_level(logging.DEBUG)
    settings = EndpointSettings(base_url=_secret_url(f"127.0.0.1:{_closed_port()}"),
                                api_key_env=None, max_retries=1, backoff_base_s=0.001)
    async with OpenAIClient(settings) as client:
        with pytest.raises(ModelCallError) as info:
            await client.chat("m", [Message(role="user", content="hi")])
        texts = [str(info.value), repr(info.value), repr(settings), str(settings), repr(client),
                 caplog.text]
    assert info.value.reason == "connection" and "retrying" in caplog.text
    assert "api-version=1" in str(info.value)  # the rest of the URL is still there to debug
    for text in texts:
        assert PASSWORD not in text and QUERY_KEY not in text


async def test_server_echoing_the_url_secrets_is_redacted():
    script = Script(rules=[Rule(pattern="hi", error=RuleError(
        status=403, message=f"api-key {QUERY_KEY} is not valid for user:{PASSWORD}"))])
    with ScriptedServer(script) as srv:
        settings = EndpointSettings(base_url=_secret_url(f"{srv.host}:{srv.port}"),
                                    api_key_env=None)
        async with OpenAIClient(settings) as client:
            with pytest.raises(ModelCallError) as info:
                await client.chat("m", [Message(role="user", content="hi")])
    assert info.value.status == 403 and "is not valid" in str(info.value)
    assert PASSWORD not in str(info.value) and QUERY_KEY not in str(info.value)


async def test_base_url_with_a_query_keeps_the_query_after_the_path():
    with ScriptedServer(Script()) as srv:
        settings = EndpointSettings(base_url=f"{srv.base_url}?api-version=1", api_key_env=None)
        async with OpenAIClient(settings) as client:
            reply = await client.chat("m", [Message(role="user", content="hi")])
            vectors = await client.embed("e", ["a"])
    assert reply.completion.text == "OK" and len(vectors) == 1
    assert settings.url("tokenize", root=True) == \
        f"http://{srv.host}:{srv.port}/tokenize?api-version=1"
