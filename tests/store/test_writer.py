"""The store writer's queueing: `submit` without a task per unit, and the group-commit pacing."""

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


async def test_a_stream_of_units_is_paced_into_few_transactions(store):
    async with StoreWriter(store, min_interval_s=0.05) as writer:
        futures = []
        for i in range(200):  # 200 units over ~0.4 s: unpaced, nearly one transaction each
            futures.append(writer.submit(content(i)))
            await asyncio.sleep(0.002)
        await asyncio.gather(*futures)
    assert writer.transactions <= 0.4 / 0.05 + 3
    assert store.query("SELECT count(*) AS n FROM contents").to_pylist() == [{"n": 200}]


async def test_a_unit_after_a_quiet_spell_is_written_without_waiting(store):
    async with StoreWriter(store, min_interval_s=2.0) as writer:
        await writer.commit(content(0))  # opens the file (migrations): not what is timed
        await asyncio.sleep(2.1)
        start = time.perf_counter()
        await writer.commit(content(1))
        assert time.perf_counter() - start < 1.0
