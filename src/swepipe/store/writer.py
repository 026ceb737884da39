"""One writer per process: asyncio tasks hand it commit units, it groups them into transactions.

A `StageCommit` is a stage result (outputs plus its `done` or `failed` mark); a `RowsCommit` is
plain rows (model calls, test runs). Units that arrive while a transaction is being written are
grouped into the next one (group commit), so a thousand tasks finishing at once cost a handful of
transactions, and the store file is open only while writing (other processes get their turn).
Units nobody awaits (`submit`) also wait up to `batch_window_s` for company; an awaited `commit`
is written at once, with everything queued before it (the queue is FIFO).
The attempt number of a stage result is assigned inside the transaction, where writers are
serialized by DuckDB's file lock, so two processes never write the same key twice: under the
`use` policy a result whose key already has a `done` attempt is dropped as a duplicate.
If a grouped transaction fails, each unit is retried alone so one bad unit fails alone.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa

from swepipe.store.codecs import OUTPUT_TABLE
from swepipe.store.sql_files import load_query
from swepipe.store.store import Rows, Store, insert_rows, registered
from swepipe.types import StageName


@dataclass
class StageCommit:
    stage: StageName
    config_hash: str
    instance_id: str
    instance_hash: str
    status: str  # done | failed
    rows: list[dict[str, Any]] = field(default_factory=list)
    error_class: str | None = None
    error_message: str | None = None
    run_id: str | None = None
    started_at: datetime | None = None
    duration_s: float | None = None
    skip_if_done: bool = True
    """Drop this result when the key already has a done attempt (the `use` policy)."""


@dataclass
class RowsCommit:
    tables: dict[str, Rows]
    ignore_existing: frozenset[str] = frozenset()
    """Tables where rows whose primary key exists are skipped (content-addressed tables)."""


Unit = StageCommit | RowsCommit
_UNIQUE_KEY = {"contents": "content_hash", "configs": "config_hash"}


def write_units(conn: duckdb.DuckDBPyConnection, units: list[Unit]) -> list[int | None]:
    """Write units inside the caller's transaction. Returns the attempt per unit (None when a
    stage result was dropped as a duplicate, or for plain rows)."""
    results: list[int | None] = [None] * len(units)
    tables: dict[str, list[Rows]] = defaultdict(list)
    ignore: set[str] = set()
    stage_units = [(i, u) for i, u in enumerate(units) if isinstance(u, StageCommit)]
    if stage_units:
        keys = pa.Table.from_pylist([{"stage": u.stage, "config_hash": u.config_hash,
                                      "instance_id": u.instance_id,
                                      "instance_hash": u.instance_hash} for _, u in stage_units])
        with registered(conn, _keys=keys):
            state = {(r[0], r[1], r[2]): (r[3], r[4])
                     for r in conn.execute(load_query("store/attempt_state")).fetchall()}
        for i, unit in stage_units:
            key = (unit.stage, unit.config_hash, unit.instance_id)
            max_attempt, has_done = state[key]
            if unit.skip_if_done and has_done:
                continue
            attempt = max_attempt + 1
            state[key] = (attempt, has_done or unit.status == "done")
            results[i] = attempt
            tables["stage_runs"].append([{
                "stage": unit.stage, "config_hash": unit.config_hash,
                "instance_id": unit.instance_id, "attempt": attempt, "status": unit.status,
                "instance_hash": unit.instance_hash, "run_id": unit.run_id,
                "error_class": unit.error_class, "error_message": unit.error_message,
                "started_at": unit.started_at, "duration_s": unit.duration_s}])
            if unit.rows:
                keyed = [{**row, "config_hash": unit.config_hash,
                          "instance_id": unit.instance_id, "attempt": attempt}
                         for row in unit.rows]
                tables[OUTPUT_TABLE[unit.stage]].append(keyed)
    for unit in units:
        if isinstance(unit, RowsCommit):
            for name, rows in unit.tables.items():
                tables[name].append(rows)
            ignore |= unit.ignore_existing
    for name, parts in tables.items():
        # one Arrow table per target table: dict rows are flattened first (one conversion),
        # Arrow parts are appended as they are
        dicts = [row for part in parts if not isinstance(part, pa.Table) for row in part]
        if name in _UNIQUE_KEY and dicts:  # one INSERT may not carry the same key twice
            dicts = list({row[_UNIQUE_KEY[name]]: row for row in dicts}.values())
        arrow = [part for part in parts if isinstance(part, pa.Table) and part.num_rows]
        if dicts:
            arrow.append(pa.Table.from_pylist(dicts))
        if arrow:
            merged = pa.concat_tables(arrow, promote_options="permissive") if len(arrow) > 1 \
                else arrow[0]
            insert_rows(conn, name, merged, ignore_existing=name in ignore)
    return results


class StoreWriter:
    """Async group-commit writer. Use as `async with StoreWriter(store) as writer:`."""

    def __init__(self, store: Store, *, max_units: int = 2000, linger_s: float = 0.1,
                 max_hold_s: float = 1.0, batch_window_s: float = 0.05) -> None:
        self.store = store
        self.max_units = max_units
        self.linger_s = linger_s
        """Keep the file open this long after a batch when more commits may follow."""
        self.max_hold_s = max_hold_s
        """Then close it anyway, so other processes (and `swepipe sql`) get their turn."""
        self.batch_window_s = batch_window_s
        """Units nobody awaits (`submit`: model-call rows) wait up to this long after the last
        transaction began, for more to join them: a transaction costs about 5 ms whatever its
        size. A `commit`, which its caller awaits, is written at once, with all queued before."""
        self._held_since: float | None = None
        self._queue: asyncio.Queue[tuple[Unit, asyncio.Future[int | None], bool] | None] | \
            None = None
        self._awaited = 0  # queued units whose caller waits (`commit`)
        self._hurry: asyncio.Event | None = None
        self._last_write = -1e9
        self._task: asyncio.Task[None] | None = None
        self.transactions = 0

    async def __aenter__(self) -> StoreWriter:
        self._queue, self._hurry = asyncio.Queue(), asyncio.Event()
        self._task = asyncio.create_task(self._loop(), name="swepipe-store-writer")
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Write everything queued, then stop."""
        if self._task is None:
            return
        self._queue.put_nowait(None)
        self._hurry.set()
        await asyncio.shield(self._task)
        self._task = None

    async def commit(self, unit: Unit) -> int | None:
        """Queue a unit and wait until it is durable (or raise why it could not be written)."""
        # shield: a cancelled caller must not cancel a commit that is half-way through
        return await asyncio.shield(self._enqueue(unit, awaited=True))

    def submit(self, unit: Unit) -> asyncio.Future[int | None]:
        """Queue a unit without waiting: the future settles once it is durable. For callers
        that queue thousands of units a second (model calls), where a task per unit would
        cost more than writing it; such units may wait `batch_window_s` for company."""
        return self._enqueue(unit, awaited=False)

    def _enqueue(self, unit: Unit, *, awaited: bool) -> asyncio.Future[int | None]:
        if self._task is None:
            raise RuntimeError("StoreWriter is not running (use `async with`)")
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((unit, future, awaited))
        if awaited:
            self._awaited += 1
            self._hurry.set()
        return future

    async def _loop(self) -> None:
        stopping = False
        while not stopping:
            try:
                item = await asyncio.wait_for(self._queue.get(), self.linger_s) \
                    if self._held_since is not None else await self._queue.get()
            except TimeoutError:
                await asyncio.to_thread(self._release)
                continue
            if item is not None and not self._hurry.is_set():
                wait = self._last_write + self.batch_window_s - time.monotonic()
                if wait > 0:
                    with suppress(TimeoutError):
                        await asyncio.wait_for(self._hurry.wait(), wait)
            batch = []
            if item is None:
                stopping = True
            else:
                batch.append(item)
            while len(batch) < self.max_units and not self._queue.empty():
                nxt = self._queue.get_nowait()
                if nxt is None:
                    stopping = True
                    continue
                batch.append(nxt)
            self._awaited -= sum(awaited for _, _, awaited in batch)
            if self._awaited == 0:
                self._hurry.clear()
            if batch:
                self._last_write = time.monotonic()
                await asyncio.to_thread(self._write_batch, [(u, f) for u, f, _ in batch])
        await asyncio.to_thread(self._release)

    def _hold(self) -> None:
        if self._held_since is None:
            self.store.open_session()
            self._held_since = time.monotonic()

    def _release(self) -> None:
        if self._held_since is not None:
            self._held_since = None
            self.store.close_session()

    def _write_batch(self, batch: list[tuple[Unit, asyncio.Future[int | None]]]) -> None:
        units = [u for u, _ in batch]
        try:
            self._hold()
        except Exception:  # noqa: BLE001 - the transactions below report the same failure
            pass
        try:
            with self.store.transaction() as conn:
                results = write_units(conn, units)
            self.transactions += 1
            outcomes: list[tuple[int | None, BaseException | None]] = [(r, None) for r in results]
        except Exception:  # noqa: BLE001 - isolate the failing unit by writing units alone
            outcomes = []
            for unit in units:
                try:
                    with self.store.transaction() as conn:
                        outcomes.append((write_units(conn, [unit])[0], None))
                    self.transactions += 1
                except Exception as exc:  # noqa: BLE001 - handed to the waiting task
                    outcomes.append((None, exc))
        if self._held_since is not None and time.monotonic() - self._held_since > self.max_hold_s:
            self._release()
        # one wake-up of the event loop for the whole batch, not one per unit
        if batch:
            batch[0][1].get_loop().call_soon_threadsafe(
                _settle, [(future, *outcome) for (_, future), outcome in zip(batch, outcomes)])


def _settle(outcomes: list[tuple[asyncio.Future[int | None], int | None,
                                 BaseException | None]]) -> None:
    for future, result, error in outcomes:
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
