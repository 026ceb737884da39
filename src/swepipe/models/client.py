"""Async client for the OpenAI-compatible API (vLLM, SGLang, hosted services), on aiohttp.

    client = OpenAIClient(EndpointSettings(base_url="http://gpu-node:8000/v1"))
    result = await client.chat("Qwen/Qwen2.5-Coder-32B-Instruct", messages, SamplingParams(n=4))
    result.completion.choices, result.attempts, result.request_json

`chat` returns a `CallResult`: the `Completion` plus what the `sequences` log needs and
`types.py` does not carry (attempts made, the exact JSON body sent; the key travels only in a
header). A call that fails for good raises `ModelCallError` (a `ModelError`) with `reason` and
`attempts`. Components never see this client: the runner wraps it in a logging `Model` handle.

Transport: aiohttp. Measured on 2 cores against the scripted server (3,000 calls at 256 in flight,
100 ms latency): aiohttp 1.6x the ideal wall time, one httpx.AsyncClient 54x, httpx sharded over
small pools 2.6-15x. httpcore's pool polls every pooled connection on each request, which at 256
connections costs more CPU than the HTTP itself; aiohttp's connector does not. The session is
created on first use, inside the running event loop, as aiohttp requires.
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, runtime_checkable

import aiohttp
from aiolimiter import AsyncLimiter
from tenacity import (AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt,
                      stop_before_delay)

from swepipe.models.parse import error_message, parse_chat, parse_embeddings
from swepipe.models.redact import redact_text, redact_url, url_secrets
from swepipe.models.retry import Fatal, ModelCallError, Transient, parse_retry_after, wait_retry_after
from swepipe.models.settings import EndpointSettings
from swepipe.models.tokens import estimate_tokens
from swepipe.types import Completion, Message, SamplingParams

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class CallResult:
    """A successful chat call: the completion and how it was obtained."""

    completion: Completion
    attempts: int
    """HTTP requests made, the successful one included (1 = no retry)."""
    request_json: dict[str, Any] = field(default_factory=dict)
    """The JSON body sent (model, messages, sampling fields); never holds the API key."""


@runtime_checkable
class ChatBackend(Protocol):
    """What an inference service implements to plug in behind the `Model` handle."""

    async def chat(self, model: str, messages: Sequence[Message],
                   params: SamplingParams) -> CallResult:
        """`params.n` choices for `messages`; raises `ModelError` when it fails for good."""
        ...

    async def tokenize(self, model: str, text: str) -> int | None:
        """Exact token count from the server's tokenizer, or None when it has none."""
        ...


class OpenAIClient:
    """`ChatBackend` for any OpenAI-compatible HTTP server, with retries and rate limits."""

    def __init__(self, settings: EndpointSettings) -> None:
        self.settings = settings
        s = settings
        self._session: aiohttp.ClientSession | None = None
        self._slots = asyncio.Semaphore(s.max_concurrency)
        # An AsyncLimiter(rate, period) lets a full `rate` through at once, so a per-minute
        # bucket would allow a minute's worth in one burst; short buckets keep the pace even.
        rpm, tpm = s.requests_per_minute, s.tokens_per_minute
        self._rpm = AsyncLimiter(max(rpm / 60, 1.0), 1) if rpm else None
        self._tpm = AsyncLimiter(max(tpm / 6, 1.0), 10) if tpm else None
        self._has_tokenize: bool | None = None
        self._url_secrets = tuple(url_secrets(s.base_url))

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            ssl_context: ssl.SSLContext | bool = (ssl.create_default_context()
                                                  if self.settings.base_url.startswith("https")
                                                  else False)
            connector = aiohttp.TCPConnector(limit=self.settings.max_concurrency, ssl=ssl_context)
            # aiohttp's own timeout (connect, send, wait and read) is the attempt's limit: it
            # runs a timer per request anyway, so a second one around it would cost twice
            self._session = aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                timeout=aiohttp.ClientTimeout(total=self.settings.timeout_s))
        return self._session

    def __repr__(self) -> str:
        return (f"OpenAIClient(base_url={redact_url(self.settings.base_url)!r}, "
                f"max_concurrency={self.settings.max_concurrency})")

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def __aenter__(self) -> "OpenAIClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # -- API -----------------------------------------------------------------------------------

    def chat_body(self, model: str, messages: Sequence[Message],
                  params: SamplingParams) -> dict[str, Any]:
        """The JSON body `chat` sends (also what the `sequences` log records)."""
        body: dict[str, Any] = {"model": model, "messages": [m.model_dump() for m in messages],
                                "n": params.n, "temperature": params.temperature,
                                "top_p": params.top_p}
        if params.max_tokens is not None:
            body["max_tokens"] = params.max_tokens
        if params.stop:
            body["stop"] = list(params.stop)
        if params.seed is not None:
            body["seed"] = params.seed
        if self.settings.want_token_ids:
            body.update(logprobs=True, return_tokens_as_token_ids=True)
        body.update(self.settings.extra_body)
        return body

    async def chat(self, model: str, messages: Sequence[Message],
                   params: SamplingParams | None = None) -> CallResult:
        """One chat completion with `params.n` choices. `completion.latency_s` is the wall time
        of the whole call, retries and waits included."""
        params = params or SamplingParams()
        body = self.chat_body(model, messages, params)
        tokens = sum(estimate_tokens(m.content) for m in messages) + \
            (params.max_tokens or 0) * params.n
        start = time.perf_counter()
        completion, attempts = await self._call(
            self.settings.url("chat/completions"), body, tokens,
            lambda data: parse_chat(data, model, params.n))
        completion.latency_s = time.perf_counter() - start
        return CallResult(completion, attempts, body)

    async def embed(self, model: str, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order (batched by `embed_batch_size`, batches concurrent)."""
        size = self.settings.embed_batch_size
        batches = [list(texts[i:i + size]) for i in range(0, len(texts), size)]

        async def one(batch: list[str]) -> list[list[float]]:
            rows, _ = await self._call(
                self.settings.url("embeddings"), {"model": model, "input": batch},
                sum(estimate_tokens(t) for t in batch), lambda d: parse_embeddings(d, len(batch)))
            return rows

        return [row for rows in await asyncio.gather(*map(one, batches)) for row in rows]

    async def tokenize(self, model: str, text: str) -> int | None:
        """Exact count from vLLM's `/tokenize`; None when the server has no such endpoint
        (remembered, so it is asked once)."""
        if self._has_tokenize is False:
            return None
        try:
            count, _ = await self._call(self.settings.url("tokenize", root=True),
                                        {"model": model, "prompt": text}, estimate_tokens(text),
                                        lambda d: int(d["count"]))
        except ModelCallError as exc:
            if exc.status in (404, 405, 501):
                self._has_tokenize = False
                return None
            raise
        self._has_tokenize = True
        return count

    async def count_tokens(self, model: str, text: str) -> int:
        """`tokenize`, or `estimate_tokens` when the server cannot count."""
        exact = await self.tokenize(model, text)
        return estimate_tokens(text) if exact is None else exact

    # -- machinery -----------------------------------------------------------------------------

    async def _call(self, url: str, body: dict[str, Any], tokens: int,
                    parse: Callable[[Any], T]) -> tuple[T, int]:
        """POST with retries; returns (parsed reply, attempts)."""
        s = self.settings
        payload = json.dumps(body).encode()
        started = time.monotonic()
        try:
            # Most calls succeed at once: the first attempt skips tenacity's per-call state
            # (about 30 µs, a tenth of the client's CPU budget per call at 2,500 calls/s).
            return await self._attempt(url, payload, tokens, parse), 1
        except Transient as exc:
            first: Transient = exc
        except Fatal as exc:
            raise _failed(exc, url, 1) from None
        retrying = AsyncRetrying(
            stop=stop_after_attempt(s.max_retries + 1) |
            stop_before_delay(max(s.max_retry_time_s - (time.monotonic() - started), 0.0)),
            wait=wait_retry_after(s.backoff_base_s, s.backoff_max_s),
            retry=retry_if_exception_type(Transient), reraise=True, before_sleep=_log_retry)
        attempts = 1
        try:
            async for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    if attempts == 1:  # the attempt made above: tenacity decides what follows
                        raise first
                    return await self._attempt(url, payload, tokens, parse), attempts
        except (Transient, Fatal) as exc:
            raise _failed(exc, url, attempts) from None
        raise AssertionError("unreachable: tenacity either returns or raises")

    async def _attempt(self, url: str, payload: bytes, tokens: int,
                       parse: Callable[[Any], T]) -> T:
        # Rate limits are taken outside the slot so that waiting for quota holds no connection.
        if self._rpm is not None:
            await self._rpm.acquire()
        if self._tpm is not None:
            await self._tpm.acquire(min(max(tokens, 1), self._tpm.max_rate))
        key = self.settings.api_key()
        secrets = (key, *self._url_secrets)
        headers = {"content-type": "application/json"}
        if key:
            headers["authorization"] = f"Bearer {key}"
        async with self._slots:
            try:
                async with self._http().post(url, data=payload, headers=headers) as resp:
                    reply = _Reply(resp.status, await resp.read(), resp.headers)
            except TimeoutError as exc:
                raise Transient("timeout", f"no complete reply within {self.settings.timeout_s:g} s "
                                f"({type(exc).__name__})") from None
            except aiohttp.ClientPayloadError as exc:
                raise Transient("truncated",
                                f"{type(exc).__name__}: {redact_text(str(exc), secrets)}") from None
            except aiohttp.ClientError as exc:
                raise Transient("connection",
                                f"{type(exc).__name__}: {redact_text(str(exc), secrets)}") from None
        return _check(reply, secrets, parse)


@dataclass(frozen=True)
class _Reply:
    status_code: int
    content: bytes
    headers: Mapping[str, str]

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


def _check(resp: _Reply, secrets: tuple[str | None, ...], parse: Callable[[Any], T]) -> T:
    """Classify a response: parsed value, `Transient` or `Fatal`. Servers echo a bad key (or
    the URL they were sent) in their error text: `secrets` never reach an exception or a log."""
    try:
        data = json.loads(resp.content)
    except ValueError:
        data = None
        if resp.is_success:
            raise Transient("malformed", f"HTTP {resp.status_code} body is not JSON: "
                            f"{redact_text(resp.text[:200], secrets)!r}") from None
    if resp.is_success:
        try:
            return parse(data)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise Transient("malformed", f"unexpected reply shape: {exc}") from None
    message = redact_text(error_message(data, resp.text), secrets)
    status = resp.status_code
    if status == 429:
        after = parse_retry_after(resp.headers)
        hint = f" (Retry-After {after:g} s)" if after is not None else ""
        raise Transient("rate_limited", f"HTTP 429: {message}{hint}", after)
    if status >= 500:
        raise Transient("server_error", f"HTTP {status}: {message}", parse_retry_after(resp.headers))
    raise Fatal(f"http_{status}", f"HTTP {status}: {message}", status)


def _failed(exc: Transient | Fatal, url: str, attempts: int) -> ModelCallError:
    return ModelCallError(exc.reason, f"POST {redact_url(url)}: {exc.message}",
                          attempts=attempts, status=getattr(exc, "status", None))


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    log.info("model call attempt %d failed (%s: %s); retrying in %.2f s", state.attempt_number,
             getattr(exc, "reason", "?"), getattr(exc, "message", exc), state.upcoming_sleep)
