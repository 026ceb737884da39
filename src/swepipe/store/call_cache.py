"""The call-level cache: a model call whose request hash already succeeded is answered from the
store, so a run killed after 37 of 40 samples makes 3 calls when resumed, not 40.

Lookups are batched: calls that ask within the same moment share one query (like the writer's
group commit), so hundreds of concurrent calls do not each open the store. Hashes answered once
are remembered for the life of the cache.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import pyarrow as pa

from swepipe.store.sql_files import load_query
from swepipe.store.store import Store, registered
from swepipe.types import Choice, Completion, Usage


class CallCache:
    """Subclasses answer a batch elsewhere by overriding `_answer` (`ray_calls.SharedCallCache`
    asks the run's broker); the batching loop is this class's."""

    def __init__(self, store: Store, *, max_batch: int | None = 5000,
                 read_only: bool = False) -> None:
        self.store, self.read_only = store, read_only
        self.max_batch = max_batch  # None: every waiting hash in one batch
        self._known: dict[str, Completion] = {}
        self._pending: dict[str, list[asyncio.Future[Any]]] = {}
        self._flush: asyncio.Task[None] | None = None
        self.queries = 0

    def remember(self, request_hash: str, completion: Completion) -> None:
        """Record a fresh successful call so later identical requests in this process hit
        (as cache hits: they cost nothing and must not count as calls)."""
        self._known.setdefault(request_hash, completion.model_copy(update={"from_cache": True}))

    def recall(self, request_hash: str) -> Completion | None:
        """The answer this process already knows, without a query."""
        return self._known.get(request_hash)

    def forget(self, request_hash: str) -> None:
        """A call this process was making failed or was cancelled (a shared cache lets the
        callers waiting for it elsewhere make it themselves); nothing to do here."""

    async def lookup(self, request_hash: str) -> Completion | None:
        if request_hash in self._known:
            return self._known[request_hash]
        return await self._ask(request_hash)

    def _ask(self, request_hash: str) -> asyncio.Future[Any]:
        """A future for this hash's answer, sent with the next batch."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(request_hash, []).append(future)
        self._kick()
        return future

    def _kick(self) -> None:
        if self._flush is None or self._flush.done():
            self._flush = asyncio.get_running_loop().create_task(self._run_batches())

    def _has_work(self) -> bool:
        """Whether the batching loop has something to send."""
        return bool(self._pending)

    async def _run_batches(self) -> None:
        await asyncio.sleep(0)  # let the other calls of this moment enqueue their hashes
        while self._has_work():
            hashes = list(self._pending)[: self.max_batch]
            waiting = [self._pending.pop(h) for h in hashes]
            try:
                answers = await self._answer(hashes)
            except Exception as exc:  # noqa: BLE001 - every waiter learns why
                fail_waiters(waiting, exc)
                continue
            for futures, answer in zip(waiting, answers):
                for f in futures:
                    if not f.done():
                        f.set_result(answer)

    async def _answer(self, hashes: list[str]) -> list[Any]:
        """One batch's answers, in the order of `hashes`: here the store's (None: not stored)."""
        found = await asyncio.to_thread(self._query, hashes)
        for h in hashes:
            # a call made by this process while the query ran is as good as a stored one
            hit = found.get(h) or self._known.get(h)
            if hit is not None:
                self._known[h] = hit
        return [self._known.get(h) for h in hashes]

    def _query(self, hashes: list[str]) -> dict[str, Completion]:
        self.queries += 1
        with self.store.connect(read_only=self.read_only) as conn:
            with registered(conn, _hashes=pa.table({"request_hash": hashes})):
                rows = conn.execute(load_query("store/call_cache_lookup")).fetchall()
        out = {}
        for request_hash, sequence_id, model, prompt, completion, cached, choices in rows:
            out[request_hash] = Completion(
                model=model, choices=[Choice.model_validate(c) for c in choices],
                usage=Usage(prompt_tokens=prompt or 0, completion_tokens=completion or 0,
                            cached_tokens=cached or 0),
                from_cache=True, sequence_id=sequence_id)
        return out


def fail_waiters(waiting: Iterable[list[asyncio.Future[Any]]], exc: BaseException) -> None:
    """A batched request failed: every caller still waiting on it gets `exc`."""
    for futures in waiting:
        for future in futures:
            if not future.done():
                future.set_exception(exc)
