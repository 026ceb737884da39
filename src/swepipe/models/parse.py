"""Turning OpenAI-compatible JSON into swepipe types. Shape problems raise `ValueError` (the
client treats them as a malformed reply and retries)."""

from __future__ import annotations

from typing import Any

from swepipe.types import Choice, Completion, Usage


def error_message(data: Any, text: str) -> str:
    """The server's own words from an error body (OpenAI, vLLM and FastAPI shapes)."""
    if isinstance(data, dict):
        err = data.get("error")
        if isinstance(err, dict) and err.get("message"):
            return str(err["message"])
        if isinstance(err, str):
            return err
        for key in ("message", "detail"):
            if data.get(key):
                return str(data[key])
    return text.strip()[:1000] or "(empty body)"


def _token_ids(choice: dict) -> list[int] | None:
    """`choice.token_ids` (vLLM `return_token_ids`), else logprob tokens spelled `token_id:N`
    (vLLM `return_tokens_as_token_ids`)."""
    ids = choice.get("token_ids")
    if isinstance(ids, list):
        return [int(i) for i in ids]
    content = (choice.get("logprobs") or {}).get("content")
    if not content:
        return None
    tokens = [str(t.get("token", "")) for t in content]
    if not all(t.startswith("token_id:") for t in tokens):
        return None
    return [int(t.removeprefix("token_id:")) for t in tokens]


def _logprobs(choice: dict) -> list[float] | None:
    content = (choice.get("logprobs") or {}).get("content")
    if not content:
        return None
    return [float(t["logprob"]) for t in content]


def parse_usage(data: dict) -> Usage:
    usage = data.get("usage") or {}
    details = usage.get("prompt_tokens_details") or {}
    return Usage(prompt_tokens=int(usage.get("prompt_tokens") or 0),
                 completion_tokens=int(usage.get("completion_tokens") or 0),
                 cached_tokens=int(details.get("cached_tokens") or 0))


def parse_chat(data: Any, model: str, n: int) -> Completion:
    """A chat.completion body -> `Completion` (choices in index order; keeps token ids and
    logprobs when present). `model` is the requested name, the identity used in config hashes."""
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
        raise ValueError("reply has no `choices` list")
    raw = sorted(data["choices"], key=lambda c: int(c.get("index", 0)))
    if len(raw) != n:
        raise ValueError(f"asked for {n} choices, got {len(raw)}")
    choices = []
    for c in raw:
        message = c["message"]
        content = message.get("content")
        if content is not None and not isinstance(content, str):
            raise ValueError("choice content is not a string")
        choices.append(Choice(text=content or "", finish_reason=c.get("finish_reason"),
                              token_ids=_token_ids(c), logprobs=_logprobs(c)))
    return Completion(model=model, choices=choices, usage=parse_usage(data))


def parse_embeddings(data: Any, count: int) -> list[list[float]]:
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise ValueError("reply has no `data` list")
    rows = sorted(data["data"], key=lambda d: int(d.get("index", 0)))
    if len(rows) != count:
        raise ValueError(f"sent {count} texts, got {len(rows)} embeddings")
    return [[float(x) for x in row["embedding"]] for row in rows]
