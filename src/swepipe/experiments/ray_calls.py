"""One call cache per Ray run: `CallBroker`, shared by every worker, and `SharedCallCache`, a
worker's client of it.

Locally a run has one `CallCache` on the store plus the model service's in-flight table, so a
request is made once per run: the first caller makes it, identical requests made meanwhile wait
for it, later ones (and stored ones) are answered from the cache. On Ray the workers are separate
processes, so that logic lives in one actor, the broker:

- `claim(hash)` answers from the broker's `CallCache` (the store's successful calls, read by the
  broker itself in batched read-only queries, plus the calls workers made in this run); when
  another caller is making the same request right now it waits for that call; otherwise it
  records the caller as the one making it and returns None;
- the store is asked only about hashes it may hold: at start the broker reads the 64-bit
  prefixes of every stored successful call's hash (`StoredKeys`, one query), so a fresh
  request - almost every request of a new run - costs no store query. (A call stored by some
  other process after the run started is therefore made again; results are unaffected.)
- `settle(hash, completion)` is the caller's report: the completion (remembered, and handed to
  the waiters) or None when the call failed (a waiter then claims it again and makes it).

The broker reads the store file, so `ray_executor` places it on the driver's node (where the
file is) with no CPU reserved; workers still never open the store. A worker's `SharedCallCache`
keeps what it learnt, so asking the broker costs one actor call per request it has not seen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
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


class CallBroker:
    """The run's call cache and in-flight table (a Ray actor in a run; plain Python in tests)."""

    def __init__(self, store_path: str | Path, lock_timeout_s: float = 60.0) -> None:
        store = Store(store_path, create=False, lock_timeout_s=lock_timeout_s)
        self.cache = CallCache(store, read_only=True)
        self.stored = StoredKeys(store)
        self.flights: dict[str, asyncio.Future[Completion | None]] = {}
        self.stats = {"claims": 0, "hits": 0, "waits": 0, "stored": len(self.stored)}

    async def claim(self, request_hash: str) -> Completion | None:
        """A completion for this request, or None: the caller makes it and must `settle` it."""
        self.stats["claims"] += 1
        while True:
            hit = self.cache.recall(request_hash)
            if (hit is None and request_hash not in self.flights  # in flight: not stored
                    and self.stored.may_hold(request_hash)):
                hit = await self.cache.lookup(request_hash)
                # a settle may have landed while this coroutine waited to resume
                hit = hit or self.cache.recall(request_hash)
            if hit is not None:
                self.stats["hits"] += 1
                return hit
            flight = self.flights.get(request_hash)
            if flight is None:
                self.flights[request_hash] = asyncio.get_running_loop().create_future()
                return None
            self.stats["waits"] += 1
            if await asyncio.shield(flight) is None:
                continue  # that call failed: claim again (one of the waiters makes it)

    def settle(self, request_hash: str, completion: Completion | None) -> None:
        """The claimed call's result (None: it failed or was cancelled)."""
        if completion is not None:
            self.cache.remember(request_hash, completion)
        flight = self.flights.pop(request_hash, None)
        if flight is not None and not flight.done():
            flight.set_result(completion)

    def counters(self) -> dict[str, int]:
        return dict(self.stats)


class SharedCallCache(CallCache):
    """A worker's call cache: what it learnt, else the run's broker (`claim` / `settle`)."""

    def __init__(self, claim: Callable[[str], Awaitable[Completion | None]],
                 settle: Callable[[str, Completion | None], Any]) -> None:
        super().__init__(store=None)  # type: ignore[arg-type] - never queried
        self._claim, self._settle = claim, settle

    @classmethod
    def of(cls, broker: Any) -> SharedCallCache:
        """On a broker actor (`ray.remote` handle) or a `CallBroker` in this process."""
        if hasattr(broker.claim, "remote"):
            return cls(lambda h: broker.claim.remote(h), broker.settle.remote)
        return cls(broker.claim, broker.settle)

    async def lookup(self, request_hash: str) -> Completion | None:
        hit = self._known.get(request_hash)
        if hit is None:
            hit = await self._claim(request_hash)
            if hit is not None:
                self._known[request_hash] = hit
        return hit.model_copy(update={"from_cache": True}) if hit is not None else None

    def remember(self, request_hash: str, completion: Completion) -> None:
        super().remember(request_hash, completion)
        self._settle(request_hash, completion)

    def forget(self, request_hash: str) -> None:
        self._settle(request_hash, None)
