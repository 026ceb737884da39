"""Runtime settings of an OpenAI-compatible endpoint.

These are *runtime* settings: where the model is served and how hard swepipe may push it. They
never enter a config hash (the model name and sampling parameters do). The API key itself is not
a field: only the name of the environment variable that holds it, read at call time, so a key
cannot end up in a config file, a repr, a log line or the store. Credentials inside `base_url`
(`user:pass@`, `?api-key=`) are redacted wherever the URL is shown or written (`redact.py`).
"""

from __future__ import annotations

import os
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from swepipe.models.redact import redact_url


class EndpointSettings(BaseModel):
    """How to reach one OpenAI-compatible server (vLLM, SGLang, a hosted API)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: str = "http://127.0.0.1:8000/v1"
    """OpenAI base URL including `/v1`, as given to the openai client; `/tokenize` is looked up
    beside it (without `/v1`), where vLLM serves it."""
    api_key_env: str | None = "SWEPIPE_API_KEY"
    """Name of the environment variable holding the API key (read per call; unset = no key)."""
    max_concurrency: int = Field(64, ge=1)
    """Most requests in flight at once (also the HTTP connection pool size)."""
    requests_per_minute: float | None = Field(None, gt=0)
    """Request rate limit, attempts included, enforced per second (bursts of rpm/60); None =
    unlimited."""
    tokens_per_minute: float | None = Field(None, gt=0)
    """Token rate limit on estimated prompt + max completion tokens, enforced over 10 s windows;
    None = unlimited."""
    timeout_s: float = Field(600.0, gt=0)
    """Limit on one attempt (connect, send, wait and read); a slower reply is retried."""
    max_retries: int = Field(8, ge=0)
    """Retries after the first attempt (so at most max_retries + 1 attempts)."""
    max_retry_time_s: float = Field(300.0, ge=0)
    """No new attempt starts later than this after the first one began."""
    backoff_base_s: float = Field(0.5, ge=0)
    """Backoff scale: the wait before retry k is uniform in [0, base * 2**k] (full jitter)."""
    backoff_max_s: float = Field(30.0, ge=0)
    """Cap on one backoff wait (a server's Retry-After is honoured even when longer)."""
    want_token_ids: bool = False
    """Ask vLLM for sampled token ids and logprobs (`logprobs`, `return_tokens_as_token_ids`);
    hosted APIs reject these fields, so it is off by default."""
    extra_body: dict[str, Any] = Field(default_factory=dict)
    """Extra JSON fields merged into every chat request (server-specific options)."""
    embed_batch_size: int = Field(128, ge=1)
    """Texts per embeddings request."""

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    def api_key(self) -> str | None:
        """The key from the environment, now. Never stored on any object."""
        if not self.api_key_env:
            return None
        return os.environ.get(self.api_key_env) or None

    @property
    def server_root(self) -> str:
        """`base_url` without a trailing `/v1`: where vLLM serves `/tokenize`."""
        base, sep, query = self.base_url.partition("?")
        return (base.removesuffix("/v1") if base.endswith("/v1") else base) + sep + query

    def url(self, path: str, *, root: bool = False) -> str:
        """`base_url` (or `server_root`) with `/path` added to its path, before any query
        (`...?api-version=2024-06-01` stays a query)."""
        base, sep, query = (self.server_root if root else self.base_url).partition("?")
        return f"{base}/{path}{sep}{query}"

    def __repr_args__(self) -> Any:
        # repr and str show the endpoint without its credentials (models/redact.py)
        for name, value in super().__repr_args__():
            yield name, redact_url(value) if name == "base_url" else value
