"""Get-or-compute for one (stage, config): each instance's result is computed once, then read back.

Policies (per stage):
- `use` (default): a `done` attempt on the same instance revision is returned from the store; a
  failed one on that revision is returned as failed unless `retry_failed`; otherwise compute.
- `recompute`: always compute and write a new attempt; older attempts stay queryable.
- `off`: online RL; never read the cache, still write everything.

A result counts only when its outputs and its `done` mark commit in one transaction (the
`StoreWriter` does that); an exception while computing becomes a `failed` attempt with the error
class and message; a cancelled computation writes nothing.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Generic, Literal, TypeVar

import pyarrow as pa

from swepipe.models.redact import redact_text
from swepipe.store.codecs import OUTPUT_TABLE, from_rows, to_rows
from swepipe.store.sql_files import load_query
from swepipe.store.store import Store, registered
from swepipe.store.writer import StageCommit, StoreWriter
from swepipe.types import Instance, StageName

T = TypeVar("T")
CachePolicy = Literal["use", "recompute", "off"]
log = logging.getLogger("swepipe.cache")


@dataclass
class StageResult(Generic[T]):
    status: Literal["done", "failed"]
    value: T | None = None
    from_cache: bool = False
    attempt: int | None = None
    error: str | None = None


@dataclass
class _Cached:
    done_attempt: int | None
    last_status: str | None
    error: str | None


class StageCache:
    """The cache of one stage and config. `prefetch` many instances in one query before a run."""

    def __init__(self, store: Store, writer: StoreWriter, stage: StageName, config_hash: str, *,
                 policy: CachePolicy = "use", retry_failed: bool = False,
                 run_id: str | None = None) -> None:
        self.store, self.writer = store, writer
        self.stage, self.config_hash = stage, config_hash
        self.policy, self.retry_failed, self.run_id = policy, retry_failed, run_id
        self._state: dict[str, _Cached] = {}
        self._outputs: dict[str, Any] = {}

    def prefetch(self, instances: Sequence[Instance]) -> None:
        """Load the cached state and outputs of these instances (two queries in all)."""
        if self.policy != "use" or not instances:
            return
        keys = pa.Table.from_pylist([{"instance_id": i.instance_id,
                                      "instance_hash": i.content_hash()} for i in instances])
        table = OUTPUT_TABLE[self.stage]
        params = {"stage": self.stage, "config_hash": self.config_hash}
        with self.store.connect() as conn, registered(conn, _keys=keys):
            state = conn.execute(load_query("store/cached_state"), params).fetchall()
            done = pa.Table.from_pylist(
                [{"instance_id": r[0], "attempt": r[1]} for r in state if r[1] is not None],
                schema=pa.schema([("instance_id", pa.string()), ("attempt", pa.int32())]))
            with registered(conn, _done=done):
                outputs = conn.sql(
                    f'SELECT o.* FROM "{table}" AS o JOIN _done AS d USING (instance_id, attempt) '
                    "WHERE o.config_hash = $config_hash",
                    params={"config_hash": self.config_hash}).to_arrow_table().to_pylist()
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in outputs:
            grouped[row["instance_id"]].append(row)
        for instance_id, done_attempt, last_status, err_class, err_msg, _ in state:
            error = f"{err_class}: {err_msg}" if err_class else None
            self._state[instance_id] = _Cached(done_attempt, last_status, error)
            if done_attempt is not None:
                self._outputs[instance_id] = from_rows(self.stage, grouped[instance_id])
        for instance in instances:
            self._state.setdefault(instance.instance_id, _Cached(None, None, None))

    def cached(self, instance: Instance) -> StageResult[Any] | None:
        """The stored result for this instance, or None when it must be computed."""
        if self.policy != "use":
            return None
        if instance.instance_id not in self._state:
            self.prefetch([instance])
        state = self._state[instance.instance_id]
        if state.done_attempt is not None:
            return StageResult("done", self._outputs[instance.instance_id], True,
                               state.done_attempt)
        if state.last_status == "failed" and not self.retry_failed:
            return StageResult("failed", None, True, None, state.error)
        return None

    async def get_or_compute(self, instance: Instance,
                             compute: Callable[[], Awaitable[T]]) -> StageResult[T]:
        hit = self.cached(instance)
        if hit is not None:
            return hit
        started, t0 = datetime.now(timezone.utc), time.perf_counter()
        try:
            value = await compute()
        except Exception as exc:  # noqa: BLE001 - a failure is an outcome, recorded as a row
            message = redact_text(str(exc))  # an endpoint URL in it may carry credentials
            log.warning("%s %s failed: %s: %s", self.stage, instance.instance_id,
                        type(exc).__name__, message,
                        exc_info=log.isEnabledFor(logging.DEBUG))  # where, when debugging
            attempt = await self.writer.commit(self._commit(
                instance, "failed", [], started, time.perf_counter() - t0,
                type(exc).__name__, message))
            return StageResult("failed", None, False, attempt, f"{type(exc).__name__}: {message}")
        attempt = await self.writer.commit(self._commit(
            instance, "done", to_rows(self.stage, value), started, time.perf_counter() - t0))
        # attempt is None when another process committed the same key first; ours is equivalent
        self._state[instance.instance_id] = _Cached(attempt or 0, "done", None)
        self._outputs[instance.instance_id] = value
        return StageResult("done", value, False, attempt)

    def _commit(self, instance: Instance, status: str, rows: list[dict[str, Any]],
                started: datetime, duration: float, error_class: str | None = None,
                error_message: str | None = None) -> StageCommit:
        return StageCommit(stage=self.stage, config_hash=self.config_hash,
                           instance_id=instance.instance_id,
                           instance_hash=instance.content_hash(), status=status, rows=rows,
                           error_class=error_class, error_message=error_message,
                           run_id=self.run_id, started_at=started, duration_s=duration,
                           skip_if_done=self.policy == "use")
