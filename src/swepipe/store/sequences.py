"""Rows for `sequences` (one per model call) and `contents` (each distinct text once).

Message and completion texts are content-addressed: a sequence stores `(role, content_hash)`
pairs, and `contents` holds each text once, so the 40 samples of an instance that share one long
prompt store it once. The view-free way to read a conversation back is `queries/store/
sequence_messages.sql`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from swepipe.ids import new_id
from swepipe.types import Choice, Message, SamplingParams, Usage


# The same serialization as `hashing.canonical_json`, without its per-value type walk: every
# value hashed here comes from a pydantic dump, so it is plain JSON already. Built once, since
# `request_hash` runs for every model call.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                              allow_nan=False)


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def request_hash(model: str, messages: Sequence[Message], params: SamplingParams,
                 sample_idx: int) -> str:
    """The call-cache key: (model, messages, sampling params, sample index)."""
    body = {"model": model, "messages": [m.model_dump() for m in messages],
            "params": params.model_dump(mode="json"), "sample_idx": sample_idx}
    return hashlib.sha256(_CANONICAL.encode(body).encode()).hexdigest()


def sequence_rows(*, model: str, messages: Sequence[Message], params: SamplingParams,
                  sample_idx: int = 0, choices: Sequence[Choice] = (), usage: Usage | None = None,
                  status: str = "ok", error: str | None = None, run_id: str | None = None,
                  instance_id: str | None = None, stage: str | None = None,
                  config_hash: str | None = None, trajectory_id: str | None = None,
                  turn: int = 0, weights_revision: str | None = None,
                  latency_s: float | None = None, attempts: int | None = None,
                  from_cache: bool = False, sequence_id: str | None = None,
                  request_key: str | None = None,
                  ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One `sequences` row and the `contents` rows it refers to (`request_key`: the request
    hash, when the caller has computed it already)."""
    message_hashes = [text_hash(m.content) for m in messages]
    choice_hashes = [text_hash(c.text) for c in choices]
    contents = dict(zip(message_hashes, (m.content for m in messages)))
    contents.update(zip(choice_hashes, (c.text for c in choices)))
    usage = usage or Usage()
    row = {
        "sequence_id": sequence_id or new_id(), "run_id": run_id,
        "instance_id": instance_id, "stage": stage, "config_hash": config_hash,
        "sample_idx": sample_idx, "trajectory_id": trajectory_id, "turn": turn, "model": model,
        "weights_revision": weights_revision,
        "request_hash": request_key or request_hash(model, messages, params, sample_idx),
        "messages": [{"role": m.role, "content_hash": h} for m, h in zip(messages, message_hashes)],
        "completions": [{"content_hash": h, "finish_reason": c.finish_reason,
                         "token_ids": c.token_ids, "logprobs": c.logprobs}
                        for c, h in zip(choices, choice_hashes)],
        "sampling": params.model_dump_json(),
        "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
        "cached_tokens": usage.cached_tokens, "latency_s": latency_s, "attempts": attempts,
        "status": status, "error": error, "from_cache": from_cache,
    }
    return row, [{"content_hash": h, "text": t} for h, t in contents.items()]
