"""Which failed attempts are retried, how long to wait, and the error a call ends with.

Retried (`Transient`): HTTP 429 and 5xx, timeouts, dropped connections, truncated bodies, and
2xx bodies that are not the JSON we expect. Everything else (`Fatal`: a 4xx other than 429) fails
at once with the server's message. The wait before a retry is the server's `retry-after-ms` /
`Retry-After` when it sent one (plus a little jitter so clients told the same time do not return
in lockstep), else full-jitter exponential backoff (AWS's recommendation for contended servers).
"""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Mapping

from tenacity import RetryCallState
from tenacity.wait import wait_base, wait_random_exponential

from swepipe.errors import ModelError

REASONS = ("rate_limited", "server_error", "timeout", "connection", "truncated", "malformed")
"""Reasons of retried failures; a fatal one is `http_<status>`."""


class Transient(Exception):
    """A failed attempt worth retrying."""

    def __init__(self, reason: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.reason, self.message, self.retry_after = reason, message, retry_after


class Fatal(Exception):
    """A failed attempt that retrying cannot fix."""

    def __init__(self, reason: str, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.reason, self.message, self.status = reason, message, status


class ModelCallError(ModelError):
    """A model call that failed for good.

    `reason` is one of `REASONS` (retries exhausted) or `http_<status>`; `attempts` counts the
    requests made; `status` is the last HTTP status, if any. The message never holds the API key."""

    def __init__(self, reason: str, message: str, *, attempts: int,
                 status: int | None = None) -> None:
        super().__init__(f"{reason} after {attempts} attempt{'s' * (attempts != 1)}: {message}")
        self.reason, self.attempts, self.status = reason, attempts, status


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from `retry-after-ms` (OpenAI's) or `Retry-After` (seconds or HTTP date)."""
    if (ms := headers.get("retry-after-ms")) is not None:
        try:
            return max(float(ms) / 1000.0, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


class wait_retry_after(wait_base):
    """Wait what the server asked for, else jittered exponential backoff."""

    def __init__(self, base_s: float, max_s: float) -> None:
        self.base_s = base_s
        self.backoff = wait_random_exponential(multiplier=base_s, max=max_s)

    def __call__(self, retry_state: RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        after = getattr(exc, "retry_after", None)
        if after is not None:
            return after + random.uniform(0.0, min(self.base_s, 1.0))
        return self.backoff(retry_state)
