"""What the scripted server says: the script format, reply rules, embeddings, latency, faults.

A script is a YAML or JSON file (YAML is a superset, so either loads) mapping to `Script`:

```yaml
default: "I cannot help with that."        # reply when nothing else applies
queue: ["first reply", ["choice 0", "choice 1"]]   # FIFO, one entry per request, used first
rules:                                    # first match wins, after the queue is empty
  - pattern: "call-(\\d+)"                # Python regex, re.search, DOTALL
    on: last_user                         # or `conversation` (all messages joined by newlines)
    reply: "done \\1"                     # a string, or a list cycled by choice index + seed
  - pattern: "forbidden"
    error: {status: 400, message: "prompt rejected"}
models: null                              # list of served names; null accepts any model
api_key: null                             # when set, requests must send `Bearer <api_key>`
tokenize_endpoint: true                   # false: /tokenize is a 404, as on hosted APIs
max_model_len: null                       # prompt + max_tokens above it is a 400 (as vLLM)
embedding_dim: 256
latency: {mean_ms: 100, distribution: fixed, spread_ms: 0, seed: 0}
faults: {rate: 0.2, kinds: [rate_limit, server_error, slow, drop, malformed, truncated],
         retry_after_s: 1, slow_s: 30, seed: 0}
```

Replies may use the regex's groups (`\\1`, `\\g<name>`), expanded with `Match.expand`; a rule
with `literal: true` sends its reply as written (code with backslashes in it, for example).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import re
import threading
from collections import deque
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from swepipe.errors import InputError

FaultKind = Literal["rate_limit", "server_error", "slow", "drop", "malformed", "truncated"]
FAULT_KINDS: tuple[FaultKind, ...] = ("rate_limit", "server_error", "slow", "drop", "malformed",
                                      "truncated")


class RuleError(BaseModel):
    """An HTTP error a rule answers with instead of a reply."""

    status: int = 400
    """HTTP status code."""
    message: str = "bad request"
    """Text of `error.message` in the body."""


class Rule(BaseModel):
    """Regex -> reply (or error)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    pattern: str
    """Python regex, matched with `re.search` and DOTALL."""
    on: Literal["last_user", "conversation"] = "last_user"
    """Match the last user message, or all message contents joined by newlines."""
    reply: str | list[str] | None = None
    """Reply text; a list is cycled by (choice index + request seed)."""
    literal: bool = False
    """Send the reply as written. Otherwise it is a `re` template: `\\1` and `\\g<name>` are
    the pattern's groups, so a backslash that is meant as text must be doubled."""
    error: RuleError | None = None
    """Answer with this HTTP error instead."""

    @model_validator(mode="after")
    def _check(self) -> "Rule":
        if (self.reply is None) == (self.error is None):
            raise ValueError("a rule needs exactly one of `reply` or `error`")
        re.compile(self.pattern)
        return self


class Latency(BaseModel):
    """Delay before every chat or embeddings reply."""

    mean_ms: float = Field(0.0, ge=0)
    """Mean delay in milliseconds."""
    distribution: Literal["fixed", "uniform", "exponential", "lognormal"] = "fixed"
    """fixed: mean; uniform: mean +- spread; exponential: mean; lognormal: median mean, sigma spread/mean."""
    spread_ms: float = Field(0.0, ge=0)
    """Half-width (uniform) or scale (lognormal) in milliseconds."""
    seed: int = 0
    """Seed of the delay RNG."""


class Faults(BaseModel):
    """Fault injection: each request draws at most one fault from a seeded RNG."""

    rate: float = Field(0.0, ge=0, le=1)
    """Probability that a request gets a fault, split evenly over `kinds`."""
    kinds: list[FaultKind] = Field(default_factory=lambda: list(FAULT_KINDS))
    """Which faults `rate` draws from."""
    rates: dict[FaultKind, float] = Field(default_factory=dict)
    """Per-kind probabilities; when given they replace `rate`/`kinds`."""
    retry_after_s: float = Field(1.0, ge=0)
    """Value of `Retry-After` on injected 429s (seconds; fractions are sent as written)."""
    slow_s: float = Field(30.0, ge=0)
    """How long a `slow` reply waits before answering (set it past the client's timeout)."""
    seed: int = 0
    """Seed of the fault RNG."""

    def table(self) -> list[tuple[FaultKind, float]]:
        if self.rates:
            return list(self.rates.items())
        return [(k, self.rate / len(self.kinds)) for k in self.kinds] if self.kinds else []


class Script(BaseModel):
    """The whole behaviour of a scripted server (see the module docstring for the file format)."""

    model_config = ConfigDict(extra="forbid")

    default: str = "OK"
    """Reply when the queue is empty and no rule matches."""
    queue: list[str | list[str]] = Field(default_factory=list)
    """Replies used first, one entry per chat request (a list entry gives one text per choice)."""
    rules: list[Rule] = Field(default_factory=list)
    """Checked in order after the queue is empty; first match wins."""
    models: list[str] | None = None
    """Model names served; None accepts any name."""
    api_key: str | None = None
    """When set, requests without `Authorization: Bearer <api_key>` get a 401."""
    max_model_len: int | None = None
    """Context length; prompt + max_tokens beyond it is answered with a 400 as vLLM does."""
    tokenize_endpoint: bool = True
    """Serve vLLM's `/tokenize`; False answers it with 404, as hosted APIs do."""
    embedding_dim: int = Field(256, ge=8)
    """Dimension of the deterministic embeddings."""
    latency: Latency = Field(default_factory=Latency)
    """Reply delay."""
    faults: Faults = Field(default_factory=Faults)
    """Injected faults."""


NAMED_SCRIPTS = {"minibench": ("swepipe.demo_script", "demo_script")}
"""Scripts shipped in the package, by name: `minibench` plays the presets on the bundled
mini-benchmark (`--script minibench`, `model.script = "minibench"`)."""


def load_script(path: str | Path) -> Script:
    """A named script (`NAMED_SCRIPTS`), or a YAML or JSON script file; errors name the file."""
    if str(path) in NAMED_SCRIPTS:
        import importlib

        module, function = NAMED_SCRIPTS[str(path)]
        return getattr(importlib.import_module(module), function)()
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        return Script.model_validate(data)
    except OSError as exc:
        raise InputError(f"cannot read script: {exc}", source=str(path)) from exc
    except (yaml.YAMLError, ValidationError) as exc:
        raise InputError(f"invalid script: {exc}", source=str(path)) from exc


class Replier:
    """Chooses reply texts and draws latency and faults. Thread-safe (tests inject from outside)."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self._queue: deque[str | list[str]] = deque(script.queue)
        self._rules = [(r, re.compile(r.pattern, re.DOTALL)) for r in script.rules]
        self._lock = threading.Lock()
        self._fault_rng = random.Random(script.faults.seed)
        self._latency_rng = random.Random(script.latency.seed)
        self._forced: deque[FaultKind] = deque()

    def enqueue(self, *replies: str | list[str]) -> None:
        with self._lock:
            self._queue.extend(replies)

    def inject(self, kind: FaultKind, count: int = 1) -> None:
        """Force the next `count` requests to get fault `kind` (before any random draw)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        with self._lock:
            self._forced.extend([kind] * count)

    def replies(self, messages: list[dict], n: int, seed: int | None) -> list[str] | RuleError:
        """One text per choice, or the error a rule answers with."""
        with self._lock:
            entry = self._queue.popleft() if self._queue else None
        if entry is not None:
            texts = entry if isinstance(entry, list) else [entry]
            return [texts[i % len(texts)] for i in range(n)]
        contents = [str(m.get("content") or "") for m in messages]
        users = [str(m.get("content") or "") for m in messages if m.get("role") == "user"]
        for rule, regex in self._rules:
            match = regex.search(users[-1] if rule.on == "last_user" and users else
                                 "\n".join(contents))
            if match is None:
                continue
            if rule.error is not None:
                return rule.error
            options = rule.reply if isinstance(rule.reply, list) else [rule.reply]
            chosen = [options[(i + (seed or 0)) % len(options)] for i in range(n)]
            return chosen if rule.literal else [match.expand(text) for text in chosen]
        return [self.script.default] * n

    def draw_fault(self) -> FaultKind | None:
        with self._lock:
            if self._forced:
                return self._forced.popleft()
            x = self._fault_rng.random()
        for kind, p in self.script.faults.table():
            if x < p:
                return kind
            x -= p
        return None

    def draw_latency_s(self) -> float:
        lat = self.script.latency
        with self._lock:
            rng = self._latency_rng
            if lat.distribution == "fixed":
                ms = lat.mean_ms
            elif lat.distribution == "uniform":
                ms = rng.uniform(lat.mean_ms - lat.spread_ms, lat.mean_ms + lat.spread_ms)
            elif lat.distribution == "exponential":
                ms = rng.expovariate(1 / lat.mean_ms) if lat.mean_ms else 0.0
            else:
                sigma = lat.spread_ms / lat.mean_ms if lat.mean_ms else 0.0
                ms = lat.mean_ms * math.exp(rng.gauss(0.0, sigma)) if lat.mean_ms else 0.0
        return max(ms, 0.0) / 1000.0


def _features(text: str) -> list[str]:
    """Lower-cased word unigrams plus character trigrams of each word."""
    words = re.findall(r"\w+", text.lower())
    grams = [f"#{w[i:i + 3]}" for w in words for i in range(max(len(w) - 2, 1))]
    return words + grams


def embed_text(text: str, dim: int) -> list[float]:
    """Deterministic embedding: signed feature hashing (blake2b, stable across processes and
    Python versions, unlike `hash()`) of words and char trigrams, L2-normalized. Texts sharing
    words get a positive cosine, so retrieval tests behave sensibly. Empty text -> unit e_0."""
    vec = [0.0] * dim
    for feat in _features(text):
        h = int.from_bytes(hashlib.blake2b(feat.encode(), digest_size=8).digest(), "big")
        vec[h % dim] += 1.0 if (h >> 63) & 1 else -1.0
    norm = math.sqrt(sum(v * v for v in vec))
    if norm == 0.0:
        vec[0] = 1.0
        return vec
    return [v / norm for v in vec]


def conversation_key(messages: list[dict]) -> list[str]:
    """Hashes of each message prefix, used to simulate a prefix cache (cached_tokens)."""
    keys, h = [], hashlib.sha256()
    for m in messages:
        h.update(json.dumps([m.get("role"), m.get("content")]).encode())
        keys.append(h.copy().hexdigest())
    return keys
