"""Request handling of the scripted server: OpenAI-compatible JSON in, a `Reply` out.

Transport-free so that `scripted_server.py` owns the socket (it needs raw control to drop
connections and truncate bodies). Endpoints: `POST /v1/chat/completions`, `POST /v1/embeddings`,
`POST /tokenize` (vLLM's), `GET /v1/models`, and `GET /_stats` (request counts, for benchmarks in
another process). Token counts follow `tokens.estimate_tokens`.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter, OrderedDict
from dataclasses import dataclass, field
from typing import Any, Literal

from swepipe.models.scripted_rules import Replier, RuleError, Script, conversation_key, embed_text
from swepipe.models.tokens import estimate_tokens, scripted_token_chunks, scripted_token_ids

_PREFIX_CACHE_SIZE = 100_000


@dataclass
class Reply:
    """What to put on the wire. `action` lets the transport misbehave on purpose."""

    status: int = 200
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    action: Literal["send", "drop", "truncate"] = "send"


def _json(status: int, obj: Any, headers: list[tuple[str, str]] | None = None) -> Reply:
    return Reply(status, json.dumps(obj).encode(), headers or [])


def _error(status: int, message: str, kind: str = "BadRequestError") -> Reply:
    # The OpenAI error shape, which vLLM and SGLang also use.
    return _json(status, {"error": {"message": message, "type": kind, "code": status}})


def _text(content: Any) -> str:
    """Message content as text (plain string, or OpenAI content parts)."""
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return "" if content is None else str(content)


class ScriptedApp:
    """One scripted endpoint's state: the script, counters and a simulated prefix cache."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.replier = Replier(script)
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._prefixes: OrderedDict[str, None] = OrderedDict()
        self._serial = 0
        self._inflight = 0

    def count(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def stats(self) -> dict[str, int]:
        """Counts per endpoint (`chat`, `embeddings`, ...), per fault (`fault.slow`) and per
        status (`status.200`)."""
        with self._lock:
            return dict(self._counts)

    async def handle(self, method: str, path: str, headers: dict[str, str], body: bytes,
                     received_at: float | None = None) -> Reply:
        """Answer one request. `received_at` (event-loop time the request arrived) anchors the
        scripted latency: the reply is due `latency` after arrival, so the server's own parsing
        and queueing count inside the latency rather than on top of it, as on a real server.
        `stats()["max_inflight"]` records the most requests seen at once."""
        with self._lock:
            self._inflight += 1
            self._counts["max_inflight"] = max(self._counts["max_inflight"], self._inflight)
        try:
            reply = await self._route(method, path.split("?", 1)[0], headers, body, received_at)
        finally:
            with self._lock:
                self._inflight -= 1
        self.count(f"status.{reply.status}" if reply.action == "send" else f"action.{reply.action}")
        return reply

    async def _route(self, method: str, path: str, headers: dict[str, str], body: bytes,
                     received_at: float | None) -> Reply:
        routes = {("POST", "/v1/chat/completions"): ("chat", self._chat),
                  ("POST", "/v1/embeddings"): ("embeddings", self._embeddings),
                  ("POST", "/tokenize"): ("tokenize", self._tokenize)}
        if (method, path) == ("GET", "/_stats"):
            return _json(200, self.stats())
        if (method, path) == ("GET", "/v1/models"):
            self.count("models")
            if self.script.api_key is not None and \
                    headers.get("authorization", "") != f"Bearer {self.script.api_key}":
                return _error(401, "Incorrect API key provided", "AuthenticationError")
            names = self.script.models or ["scripted"]
            return _json(200, {"object": "list", "data": [
                {"id": m, "object": "model", "owned_by": "swepipe"} for m in names]})
        if (method, path) not in routes or \
                (path == "/tokenize" and not self.script.tokenize_endpoint):
            self.count("not_found")
            return _error(404, f"no route {method} {path}", "NotFoundError")
        kind, handler = routes[(method, path)]
        self.count(kind)
        if self.script.api_key is not None:
            given = headers.get("authorization", "")
            if given != f"Bearer {self.script.api_key}":
                # Echo the key the way hosted APIs do, so tests can check clients redact it.
                shown = given.removeprefix("Bearer ") or "<none>"
                return _error(401, f"Incorrect API key provided: {shown}", "AuthenticationError")
        try:
            req = json.loads(body)
            if not isinstance(req, dict):
                raise ValueError("body is not a JSON object")
        except ValueError as exc:
            return _error(400, f"invalid JSON body: {exc}")
        fault = self.replier.draw_fault()
        if fault is not None:
            self.count(f"fault.{fault}")
        faults = self.script.faults
        if fault == "rate_limit":
            return Reply(429, json.dumps({"error": {"message": "rate limited (scripted)",
                                                    "type": "RateLimitError", "code": 429}}
                                         ).encode(),
                         [("retry-after", f"{faults.retry_after_s:g}")])
        if fault == "server_error":
            return _error(500, "internal error (scripted)", "InternalServerError")
        if fault == "drop":
            return Reply(action="drop")
        # the reply is made first, then held until due: work done here counts in the latency
        reply = handler(req)
        delay = faults.slow_s if fault == "slow" else self.replier.draw_latency_s()
        if received_at is not None:
            delay -= asyncio.get_running_loop().time() - received_at
        await asyncio.sleep(max(delay, 0.0))
        if fault == "malformed" and reply.status == 200:
            reply.body = b'{"id": "scripted", "choices": [{"index": 0, "message": {"content"'
        elif fault == "truncated" and reply.status == 200:
            reply.action = "truncate"
        return reply

    def _model_error(self, req: dict) -> Reply | None:
        model = req.get("model")
        if not isinstance(model, str) or not model:
            return _error(400, "`model` is required")
        if self.script.models is not None and model not in self.script.models:
            return _error(404, f"The model `{model}` does not exist.", "NotFoundError")
        return None

    def _chat(self, req: dict) -> Reply:
        if (err := self._model_error(req)) is not None:
            return err
        messages = req.get("messages")
        if not isinstance(messages, list) or not messages or \
                not all(isinstance(m, dict) and "role" in m for m in messages):
            return _error(400, "`messages` must be a non-empty list of {role, content} objects")
        n = req.get("n") or 1
        if not isinstance(n, int) or not 1 <= n <= 128:
            return _error(400, "`n` must be an integer between 1 and 128")
        max_tokens = req.get("max_tokens") or req.get("max_completion_tokens")
        prompt_tokens = sum(estimate_tokens(_text(m.get("content"))) for m in messages)
        limit = self.script.max_model_len
        if limit is not None and prompt_tokens + (max_tokens or 0) > limit:
            return _error(400, f"This model's maximum context length is {limit} tokens. However, "
                               f"you requested {prompt_tokens + (max_tokens or 0)} tokens "
                               f"({prompt_tokens} in the messages, {max_tokens or 0} in the "
                               "completion). Please reduce the length of the messages or "
                               "completion.")
        texts = self.replier.replies(messages, n, req.get("seed"))
        if isinstance(texts, RuleError):
            return _error(texts.status, texts.message)
        stops = req.get("stop") or []
        stops = [stops] if isinstance(stops, str) else list(stops)
        choices = [self._choice(i, t, stops, max_tokens, req) for i, t in enumerate(texts)]
        completion_tokens = sum(c.pop("_tokens") for c in choices)
        with self._lock:
            self._serial += 1
            serial = self._serial
            cached = self._cached_tokens(messages)
        return _json(200, {
            "id": f"chatcmpl-scripted-{serial}", "object": "chat.completion",
            "created": int(time.time()), "model": req["model"], "choices": choices,
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens,
                      "prompt_tokens_details": {"cached_tokens": cached}}})

    def _choice(self, index: int, text: str, stops: list[str], max_tokens: int | None,
                req: dict) -> dict:
        finish = "stop"
        cuts = [text.find(s) for s in stops if s and s in text]
        if cuts:
            text = text[:min(cuts)]
        if max_tokens is not None and estimate_tokens(text) > max_tokens:
            text = b"".join(scripted_token_chunks(text)[:max_tokens]).decode("utf-8", "ignore")
            finish = "length"
        ids = scripted_token_ids(text)
        choice: dict[str, Any] = {"index": index, "finish_reason": finish, "logprobs": None,
                                  "message": {"role": "assistant", "content": text},
                                  "_tokens": len(ids)}
        if req.get("logprobs"):
            as_ids = bool(req.get("return_tokens_as_token_ids"))
            choice["logprobs"] = {"content": [
                {"token": f"token_id:{tid}" if as_ids else chunk.decode("utf-8", "replace"),
                 "logprob": -(tid % 1000) / 1000.0, "bytes": list(chunk), "top_logprobs": []}
                for tid, chunk in zip(ids, scripted_token_chunks(text))]}
        if req.get("return_token_ids"):
            choice["token_ids"] = ids
        return choice

    def _cached_tokens(self, messages: list[dict]) -> int:
        """Tokens of the longest message prefix seen before (caller holds the lock)."""
        keys = conversation_key(messages)
        cached = 0
        for i, key in enumerate(keys):
            if key in self._prefixes:
                cached = sum(estimate_tokens(_text(m.get("content"))) for m in messages[:i + 1])
        for key in keys:
            self._prefixes[key] = None
            self._prefixes.move_to_end(key)
        while len(self._prefixes) > _PREFIX_CACHE_SIZE:
            self._prefixes.popitem(last=False)
        return cached

    def _embeddings(self, req: dict) -> Reply:
        if (err := self._model_error(req)) is not None:
            return err
        inputs = req.get("input")
        inputs = [inputs] if isinstance(inputs, str) else inputs
        if not isinstance(inputs, list) or not all(isinstance(t, str) for t in inputs):
            return _error(400, "`input` must be a string or a list of strings")
        tokens = sum(estimate_tokens(t) for t in inputs)
        return _json(200, {"object": "list", "model": req["model"], "data": [
            {"object": "embedding", "index": i, "embedding": embed_text(t, self.script.embedding_dim)}
            for i, t in enumerate(inputs)], "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})

    def _tokenize(self, req: dict) -> Reply:
        if "messages" in req:
            text = "".join(_text(m.get("content")) for m in req["messages"] if isinstance(m, dict))
        else:
            text = req.get("prompt")
        if not isinstance(text, str):
            return _error(400, "`prompt` (a string) or `messages` is required")
        ids = scripted_token_ids(text)
        return _json(200, {"count": len(ids), "max_model_len": self.script.max_model_len or 0,
                           "tokens": ids})
