"""One call cache per Ray run: `CallBroker`, shared by every worker, and `SharedCallCache`, a
worker's client of it.

Locally a run has one `CallCache` on the store plus the model service's in-flight table, so a
request is made once per run: the first caller makes it, identical requests made meanwhile wait
for it, later ones (and stored ones) are answered from the cache. On Ray the workers are separate
processes, so that logic lives in one actor, the broker:

- `exchange(settled, hashes)` answers each request from the broker's `CallCache` (the store's
  successful calls, read by the broker itself in batched read-only queries, plus the calls
  workers made in this run); when another caller is making the same request right now it
  answers `WAIT` (the worker then `wait`s for that call); otherwise it records the caller as
  the one making it and answers None;
- the store is asked only about hashes it may hold: at start the broker reads the 64-bit
  prefixes of every stored successful call's hash (`StoredKeys`, one query), so a fresh
  request - almost every request of a new run - costs no store query. (A call stored by some
  other process after the run started is therefore made again; results are unaffected.)
- `settled` are the callers' reports, sent with their next exchange: a completion (remembered,
  and handed to the waiters) or None when the call failed (a waiter then asks again and makes
  it).

The broker reads the store file, so `ray_executor` places it on the driver's node (where the
file is) with no CPU reserved; workers still never open the store. A worker's `SharedCallCache`
keeps what it learnt and batches: the requests asked and the results made while one round trip
is under way go together in the next, so the broker sees a few actor calls per batch rather
than two per request (measured: two per request made the broker the bottleneck at 2 workers).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from swepipe.store.call_cache import CallCache
from swepipe.store.sql_files import load_query
from swepipe.store.store import Store
from swepipe.types import Completion


class StoredKeys:
    """Which request hashes the store may hold: their 64-bit prefixes, sorted (false positives
    only cost a query that finds nothing)."""

    def __init__(self, store: Store) -> None:
        with store.connect(read_only=True) as conn:
            prefixes = conn.sql(load_query("store/stored_call_keys")).to_arrow_table()
        digits = "".join(prefixes.column("prefix").to_pylist())
        self.keys = np.unique(np.frombuffer(bytes.fromhex(digits), dtype=">u8"))

    def __len__(self) -> int:
        return len(self.keys)

    def may_hold(self, request_hash: str) -> bool:
        key = np.uint64(int(request_hash[:16], 16))
        k = int(np.searchsorted(self.keys, key))
        return k < len(self.keys) and self.keys[k] == key


WAIT = "wait"
"""`CallBroker.exchange`'s answer for a request another caller is making now."""


class CallBroker:
    """The run's call cache and in-flight table (a Ray actor in a run; plain Python in tests)."""

    def __init__(self, store_path: str | Path, lock_timeout_s: float = 60.0) -> None:
        store = Store(store_path, create=False, lock_timeout_s=lock_timeout_s)
        self.cache = CallCache(store, read_only=True)
        self.stored = StoredKeys(store)
        self.flights: dict[str, asyncio.Future[Completion | None]] = {}
        self.stats = {"claims": 0, "hits": 0, "waits": 0, "stored": len(self.stored)}

    async def exchange(self, settled: Sequence[tuple[str, Completion | None]],
                       hashes: Sequence[str]) -> list[Completion | str | None]:
        """One worker round trip: first the results of calls it made (`settle`), then, per hash
        asked, a completion, None (the caller makes it and settles it later) or `WAIT` (someone
        is making it now: `wait` for it). Never blocks on another caller's call."""
        for request_hash, completion in settled:
            self.settle(request_hash, completion)
        return list(await asyncio.gather(*(self._try(h) for h in hashes)))

    async def wait(self, request_hash: str) -> Completion | None:
        """The completion of the call in flight for this hash (None: it failed; ask again)."""
        flight = self.flights.get(request_hash)
        if flight is None:  # settled since it was asked
            return self.cache.recall(request_hash)
        return await asyncio.shield(flight)

    async def _try(self, request_hash: str) -> Completion | str | None:
        self.stats["claims"] += 1
        hit = self.cache.recall(request_hash)
        if (hit is None and request_hash not in self.flights  # in flight: not stored
                and self.stored.may_hold(request_hash)):
            hit = await self.cache.lookup(request_hash)
            # a settle may have landed while this coroutine waited to resume
            hit = hit or self.cache.recall(request_hash)
        if hit is not None:
            self.stats["hits"] += 1
            return hit
        if request_hash in self.flights:
            self.stats["waits"] += 1
            return WAIT
        self.flights[request_hash] = asyncio.get_running_loop().create_future()
        return None

    def settle(self, request_hash: str, completion: Completion | None) -> None:
        """The result of a call `exchange` told its caller to make (None: it failed or was
        cancelled)."""
        if completion is not None:
            self.cache.remember(request_hash, completion)
        flight = self.flights.pop(request_hash, None)
        if flight is not None and not flight.done():
            flight.set_result(completion)

    def counters(self) -> dict[str, int]:
        return dict(self.stats)


class SharedCallCache(CallCache):
    """A worker's call cache: what it learnt, else the run's broker.

    Requests asked and results made while a round trip is under way travel together in the
    next one (`CallBroker.exchange`), so the broker sees a few calls per batch of requests
    rather than two per request; `flush()` sends what is left (the end of a chunk)."""

    def __init__(self, exchange: Callable[[list[tuple[str, Completion | None]], list[str]],
                                          Awaitable[list[Completion | str | None]]],
                 wait: Callable[[str], Awaitable[Completion | None]]) -> None:
        super().__init__(store=None, max_batch=None)  # type: ignore[arg-type] - never queried
        self._exchange, self._wait = exchange, wait
        self._settled: list[tuple[str, Completion | None]] = []
        self.round_trips = 0

    @classmethod
    def of(cls, broker: Any) -> SharedCallCache:
        """On a broker actor (`ray.remote` handle) or a `CallBroker` in this process."""
        if hasattr(broker.exchange, "remote"):
            return cls(lambda s, h: broker.exchange.remote(s, h), lambda h: broker.wait.remote(h))
        return cls(broker.exchange, broker.wait)

    async def lookup(self, request_hash: str) -> Completion | None:
        hit = self._known.get(request_hash)
        while hit is None:
            got = await self._ask(request_hash)
            if got is None:
                return None  # this caller makes it
            # WAIT: another caller is making it (None back: it failed; ask again)
            hit = await self._wait(request_hash) if got == WAIT else got
        self._known[request_hash] = hit
        return hit.model_copy(update={"from_cache": True})

    def remember(self, request_hash: str, completion: Completion) -> None:
        super().remember(request_hash, completion)
        self._settled.append((request_hash, completion))
        self._kick()

    def forget(self, request_hash: str) -> None:
        self._settled.append((request_hash, None))
        self._kick()

    async def flush(self) -> None:
        """Send every result not yet sent (before a chunk's event loop ends)."""
        if self._has_work():
            self._kick()
        while self._flush is not None and not self._flush.done():
            await self._flush

    def _has_work(self) -> bool:
        return bool(self._pending or self._settled)

    async def _answer(self, hashes: list[str]) -> list[Completion | str | None]:
        """One round trip: the results made since the last, and the broker's answers."""
        settled, self._settled = self._settled, []
        self.round_trips += 1
        return await self._exchange(settled, hashes)
