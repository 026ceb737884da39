"""Rows for `sequences` (one per model call) and `contents` (each distinct text once).

Message and completion texts are content-addressed: a sequence stores `(role, content_hash)`
pairs, and `contents` holds each text once, so the 40 samples of an instance that share one long
prompt store it once. The view-free way to read a conversation back is `queries/store/
sequence_messages.sql`.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from typing import Any

from swepipe.types import Choice, Message, SamplingParams, Usage


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def request_hash(model: str, messages: Sequence[Message], params: SamplingParams,
                 sample_idx: int) -> str:
    """The call-cache key: (model, messages, sampling params, sample index)."""
    body = {"model": model, "messages": [m.model_dump() for m in messages],
            "params": params.model_dump(mode="json"), "sample_idx": sample_idx}
    # the same serialization as canonical_json, without its per-value type walk: every value
    # here comes from a pydantic dump, so it is plain JSON already (this runs once per call)
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def sequence_rows(*, model: str, messages: Sequence[Message], params: SamplingParams,
                  sample_idx: int = 0, choices: Sequence[Choice] = (), usage: Usage | None = None,
                  status: str = "ok", error: str | None = None, run_id: str | None = None,
                  instance_id: str | None = None, stage: str | None = None,
                  config_hash: str | None = None, trajectory_id: str | None = None,
                  turn: int = 0, weights_revision: str | None = None,
                  latency_s: float | None = None, attempts: int | None = None,
                  from_cache: bool = False, sequence_id: str | None = None,
                  ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One `sequences` row and the `contents` rows it refers to."""
    contents: dict[str, str] = {}
    for text in [m.content for m in messages] + [c.text for c in choices]:
        contents.setdefault(text_hash(text), text)
    usage = usage or Usage()
    row = {
        "sequence_id": sequence_id or uuid.uuid4().hex, "run_id": run_id,
        "instance_id": instance_id, "stage": stage, "config_hash": config_hash,
        "sample_idx": sample_idx, "trajectory_id": trajectory_id, "turn": turn, "model": model,
        "weights_revision": weights_revision,
        "request_hash": request_hash(model, messages, params, sample_idx),
        "messages": [{"role": m.role, "content_hash": text_hash(m.content)} for m in messages],
        "completions": [{"content_hash": text_hash(c.text), "finish_reason": c.finish_reason,
                         "token_ids": c.token_ids, "logprobs": c.logprobs} for c in choices],
        "sampling": json.dumps(params.model_dump(mode="json")),
        "prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens,
        "cached_tokens": usage.cached_tokens, "latency_s": latency_s, "attempts": attempts,
        "status": status, "error": error, "from_cache": from_cache,
    }
    return row, [{"content_hash": h, "text": t} for h, t in contents.items()]
