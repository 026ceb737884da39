"""The store writer's queueing: `submit` without a task per unit, batching what nobody awaits."""

import asyncio
import time

import pytest

from swepipe.store.writer import RowsCommit, StoreWriter


def content(i: int) -> RowsCommit:
    return RowsCommit({"contents": [{"content_hash": f"h{i}", "text": f"text {i}"}]},
                      ignore_existing=frozenset({"contents"}))


async def test_submitted_units_are_durable_when_their_futures_settle(store):
    async with StoreWriter(store) as writer:
        futures = [writer.submit(content(i)) for i in range(50)]
        await asyncio.gather(*futures)
        assert store.query("SELECT count(*) AS n FROM contents").to_pylist() == [{"n": 50}]


async def test_a_failing_unit_fails_alone_and_the_others_are_written(store):
    async with StoreWriter(store) as writer:
        good = [writer.submit(content(i)) for i in range(3)]
        bad = writer.submit(RowsCommit({"contents": [{"content_hash": "x", "no_such": 1}]}))
        await asyncio.gather(*good)
        with pytest.raises(Exception, match="no_such"):
            await bad
    assert store.query("SELECT count(*) AS n FROM contents").to_pylist() == [{"n": 3}]


async def test_submit_needs_a_running_writer(store):
    with pytest.raises(RuntimeError, match="not running"):
        StoreWriter(store).submit(content(0))


async def test_unawaited_units_are_batched_and_an_awaited_commit_is_not_held(store):
    async with StoreWriter(store, batch_window_s=5.0) as writer:
        await writer.commit(content(0))  # opens the file (migrations): not what is timed
        futures = []
        for i in range(1, 101):  # 100 rows over ~0.2 s, nobody waiting: one or two batches
            futures.append(writer.submit(content(i)))
            await asyncio.sleep(0.002)
        before = writer.transactions
        start = time.perf_counter()
        await writer.commit(content(101))  # awaited: written now, with the rows before it
        assert time.perf_counter() - start < 2.0  # not the 5 s window
        assert all(f.done() for f in futures)
        assert writer.transactions - before <= 2
    assert store.query("SELECT count(*) AS n FROM contents").to_pylist() == [{"n": 102}]


async def test_closing_writes_unawaited_units_without_waiting_out_the_window(store):
    writer = StoreWriter(store, batch_window_s=30.0)
    async with writer:
        await writer.commit(content(0))
        future = writer.submit(content(1))
        start = time.perf_counter()
    assert future.done() and time.perf_counter() - start < 10
    assert store.query("SELECT count(*) AS n FROM contents").to_pylist() == [{"n": 2}]
