"""The test matrix: store round trip, idempotent records, reuse across runs (no re-execution)."""

from swepipe.select.script_runner import ScriptRunConfig, exit_code_status
from swepipe.select.test_matrix import (
    MemoryTestMatrix, SnapshotTestMatrix, StoreTestMatrix, TestRun, ensure_scripts, script_id,
    snapshot_rows,
)
from swepipe.store.collecting_writer import ArrowBatch, CollectingWriter
from swepipe.store.writer import write_units
from swepipe.select.test_vote import TestVoteConfig, TestVoteSelector
from swepipe.store.writer import StoreWriter

from .conftest import ADD_TEST, GOLD, WRONG_ABS, WRONG_MUL, ZERO_TEST, context, patch


async def test_store_matrix_records_once_and_reads_back(store):
    matrix = StoreTestMatrix(store)
    run = TestRun(patch_hash="h1", test_kind="generated", test_id="t1", status="passed",
                  exit_code=0, output="ok")
    await matrix.record("i1", [run], {"t1": "print('x')"})
    await matrix.record("i1", [run.model_copy(update={"status": "failed"})])  # kept: first wins
    found = await matrix.lookup("i1", [("h1", "generated", "t1"), ("h2", "generated", "t1")])
    assert list(found) == [("h1", "generated", "t1")]
    assert found[("h1", "generated", "t1")].status == "passed"
    assert await matrix.lookup("other", [("h1", "generated", "t1")]) == {}
    text = store.query("SELECT text FROM contents WHERE content_hash = 't1'").to_pylist()
    assert text == [{"text": "print('x')"}]


async def test_a_snapshot_matrix_answers_like_the_store_and_collects_new_cells(store):
    """What a Ray worker gets: the stored cells of its instances, read by the driver."""
    stored = TestRun(patch_hash="h1", test_kind="regression", test_id="t1", status="passed")
    await StoreTestMatrix(store).record("i1", [stored])
    await StoreTestMatrix(store).record("i2", [stored.model_copy(update={"status": "failed"})])
    writer = CollectingWriter()
    matrix = SnapshotTestMatrix(snapshot_rows(store, ["i1"]).to_pylist(), writer)
    keys = [("h1", "regression", "t1"), ("h2", "regression", "t1")]
    assert await matrix.lookup("i1", keys) == await StoreTestMatrix(store).lookup("i1", keys)
    assert await matrix.lookup("i2", keys) == {}  # not sent: not this worker's instance
    fresh = TestRun(patch_hash="h2", test_kind="regression", test_id="t1", status="failed")
    await matrix.record("i1", [fresh], {"t1": "script"})
    assert (await matrix.lookup("i1", keys))[keys[1]].status == "failed"
    with store.transaction() as conn:  # what the driver does with the worker's batch
        write_units(conn, ArrowBatch.pack(writer.take()).units())
    assert (await StoreTestMatrix(store).lookup("i1", keys))[keys[1]] == fresh


async def test_scripts_share_one_working_copy_per_candidate_and_statuses_follow_exit_codes(
        repo, sandbox, instance):
    crash = "raise SystemExit(1)\n"
    diffs = {"": "", "g": GOLD}
    fill = await ensure_scripts(MemoryTestMatrix(), sandbox, repo, instance.instance_id, diffs,
                                [ADD_TEST, crash], "generated", exit_code_status,
                                ScriptRunConfig(timeout_s=20))
    assert sandbox.calls == 2 and fill.executed == 4
    status = {(h, t): c.status for (h, _, t), c in fill.cells.items()}
    assert status[("", script_id(ADD_TEST))] == "failed"
    assert status[("g", script_id(ADD_TEST))] == "passed"
    assert status[("g", script_id(crash))] == "error"


async def test_a_script_over_its_time_limit_is_a_timeout(repo, sandbox, instance):
    slow = "import time\ntime.sleep(30)\n"
    fill = await ensure_scripts(MemoryTestMatrix(), sandbox, repo, instance.instance_id,
                                {"": ""}, [slow], "generated", exit_code_status,
                                ScriptRunConfig(timeout_s=1))
    assert [c.status for c in fill.cells.values()] == ["timeout"]


async def test_second_run_reads_the_matrix_from_the_store_and_executes_no_test(
        store, repo, sandbox, instance):
    patches = [patch(GOLD, 0, test=ADD_TEST), patch(WRONG_MUL, 1, test=ZERO_TEST),
               patch(WRONG_ABS, 2, test=ADD_TEST), patch(GOLD, 3)]
    selector = TestVoteSelector(TestVoteConfig())
    async with StoreWriter(store) as writer:
        ctx = context(repo, sandbox, test_matrix=StoreTestMatrix(store, writer))
        first = await selector.select(instance, patches, ctx)
    rows = store.query("SELECT count(*) AS n FROM test_runs").to_pylist()[0]["n"]
    assert rows == 4 * 2  # original + 3 distinct candidates, x 2 distinct tests
    assert (sandbox.calls, sandbox.scripts) == (4, 8)

    async with StoreWriter(store) as writer:
        ctx = context(repo, sandbox, test_matrix=StoreTestMatrix(store, writer))
        second = await selector.select(instance, patches, ctx)
    assert (sandbox.calls, sandbox.scripts) == (4, 8)  # nothing ran again
    assert second.model_dump(exclude={"rationale"}) == first.model_dump(exclude={"rationale"})
    assert "8 runs executed" in first.rationale and "0 runs executed" in second.rationale
    assert first.chosen_sample_idx == 0 and first.scores == {0: 2.0, 1: 0.0, 2: 2.0, 3: 2.0}


async def test_without_executor_missing_cells_are_missing_and_not_recorded(store, instance):
    matrix = StoreTestMatrix(store)
    fill = await ensure_scripts(matrix, None, None, instance.instance_id, {"": ""}, [ADD_TEST],
                                "generated", exit_code_status, ScriptRunConfig())
    assert [c.status for c in fill.cells.values()] == ["missing"] and fill.executed == 0
    assert store.query("SELECT count(*) AS n FROM test_runs").to_pylist()[0]["n"] == 0
