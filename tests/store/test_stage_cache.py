import asyncio

from swepipe.datasets.ingest import ingest_instances
from swepipe.store.stage_cache import StageCache
from swepipe.store.writer import StoreWriter
from swepipe.types import CodePointer, Patch, Selection

from tests.store.helpers import make_instances


def pointers(instance_id: str) -> list[CodePointer]:
    return [CodePointer(file_path="pkg/mod.py", start_line=1, end_line=3, kind="function",
                        symbol="f", rank=0, score=0.9),
            CodePointer(file_path=f"pkg/{instance_id}.py", rank=1, sample_idx=1)]


class Counter:
    def __init__(self, make):
        self.calls, self.make = 0, make

    def __call__(self, instance):
        async def compute():
            self.calls += 1
            return self.make(instance)
        return compute


async def run_stage(store, stage, config_hash, instances, compute, **kw):
    async with StoreWriter(store) as writer:
        cache = StageCache(store, writer, stage, config_hash, **kw)
        cache.prefetch(instances)
        return await asyncio.gather(*(cache.get_or_compute(i, compute(i)) for i in instances))


async def test_result_is_computed_once_then_read_back(store):
    instances = make_instances(5)
    ingest_instances(store, instances, "demo", "test")
    counter = Counter(lambda i: pointers(i.instance_id))
    first = await run_stage(store, "localize", "h1", instances, counter)
    second = await run_stage(store, "localize", "h1", instances, counter)
    assert counter.calls == 5
    assert [r.from_cache for r in first] == [False] * 5
    assert [r.from_cache for r in second] == [True] * 5
    assert [r.value for r in second] == [pointers(i.instance_id) for i in instances]


async def test_patches_and_selection_round_trip_through_the_store(store):
    instances = make_instances(2)
    patches = [Patch(diff="diff --git a/x b/x\n", sample_idx=0, files=["x"], meta={"k": 1}),
               Patch(diff="", sample_idx=1, status="unparseable", reason="no SEARCH block")]
    selection = Selection(chosen_sample_idx=0, patch=patches[0].diff, method="vote",
                          scores={0: 2.0, 1: 0.0}, rationale="most votes")
    await run_stage(store, "generate", "g", instances, Counter(lambda i: patches))
    await run_stage(store, "select", "s", instances, Counter(lambda i: selection))
    again_g = await run_stage(store, "generate", "g", instances, Counter(lambda i: []))
    again_s = await run_stage(store, "select", "s", instances, Counter(lambda i: None))
    assert again_g[0].from_cache and again_g[0].value == patches
    assert again_s[1].from_cache and again_s[1].value == selection


async def test_failure_is_a_row_and_is_retried_only_when_asked(store):
    instances = make_instances(1)

    def boom(instance):
        raise ValueError("model reply did not parse")

    counter = Counter(boom)
    failed = await run_stage(store, "localize", "h", instances, counter)
    assert failed[0].status == "failed" and "ValueError" in failed[0].error
    row = store.query("SELECT status, error_class, error_message, attempt FROM stage_runs").to_pylist()
    assert row == [{"status": "failed", "error_class": "ValueError",
                    "error_message": "model reply did not parse", "attempt": 1}]
    again = await run_stage(store, "localize", "h", instances, counter)
    assert again[0].status == "failed" and again[0].from_cache and counter.calls == 1
    fixed = await run_stage(store, "localize", "h", instances,
                            Counter(lambda i: pointers(i.instance_id)), retry_failed=True)
    assert fixed[0].status == "done" and fixed[0].attempt == 2


async def test_recompute_writes_a_new_version_and_keeps_the_old(store):
    instances = make_instances(1)
    await run_stage(store, "localize", "h", instances, Counter(lambda i: pointers("old")))
    counter = Counter(lambda i: pointers("new"))
    redone = await run_stage(store, "localize", "h", instances, counter, policy="recompute")
    assert counter.calls == 1 and redone[0].attempt == 2
    versions = store.query("SELECT attempt, list(file_path ORDER BY pointer_idx) AS files "
                           "FROM localizations GROUP BY attempt ORDER BY attempt").to_pylist()
    assert [v["files"][1] for v in versions] == ["pkg/old.py", "pkg/new.py"]
    latest = await run_stage(store, "localize", "h", instances, Counter(lambda i: []))
    assert latest[0].value == pointers("new")


async def test_off_policy_never_reads_but_still_writes(store):
    instances = make_instances(2)
    counter = Counter(lambda i: pointers(i.instance_id))
    await run_stage(store, "localize", "h", instances, counter)
    await run_stage(store, "localize", "h", instances, counter, policy="off")
    assert counter.calls == 4
    assert store.query("SELECT count(*) AS n FROM stage_runs").to_pylist() == [{"n": 4}]


async def test_result_for_another_instance_revision_does_not_count(store):
    (instance,) = make_instances(1)
    counter = Counter(lambda i: pointers(i.instance_id))
    await run_stage(store, "localize", "h", [instance], counter)
    changed = instance.model_copy(update={"problem_statement": "edited issue text"})
    result = await run_stage(store, "localize", "h", [changed], counter)
    assert counter.calls == 2 and not result[0].from_cache


async def test_a_failure_on_another_instance_revision_is_not_read_back(store):
    # a stored failure counts for the revision it was computed on, as a done result does: a
    # changed row (fixed test lists, edited issue) is computed afresh without --retry-failed
    (instance,) = make_instances(1)

    def boom(instance):
        raise ValueError("failed on the old row")

    await run_stage(store, "localize", "h", [instance], Counter(boom))
    changed = instance.model_copy(update={"problem_statement": "edited issue text"})
    counter = Counter(lambda i: pointers(i.instance_id))
    result = await run_stage(store, "localize", "h", [changed], counter)
    assert counter.calls == 1 and result[0].status == "done" and result[0].attempt == 2
    again = await run_stage(store, "localize", "h", [instance], Counter(boom))
    assert again[0].status == "failed" and again[0].from_cache  # the old row: still its failure


async def test_cancelled_computation_writes_nothing(store):
    instances = make_instances(1)
    started = asyncio.Event()

    async def never_finishes():
        started.set()
        await asyncio.Event().wait()

    async with StoreWriter(store) as writer:
        cache = StageCache(store, writer, "localize", "h")
        task = asyncio.create_task(cache.get_or_compute(instances[0], never_finishes))
        await started.wait()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert store.query("SELECT count(*) AS n FROM stage_runs").to_pylist() == [{"n": 0}]


async def test_many_tasks_share_one_writer_in_few_transactions(store):
    instances = make_instances(300)
    async with StoreWriter(store) as writer:
        cache = StageCache(store, writer, "localize", "h")
        cache.prefetch(instances)

        def compute(i):
            async def run():
                await asyncio.sleep(0)
                return pointers(i.instance_id)
            return run

        results = await asyncio.gather(*(cache.get_or_compute(i, compute(i)) for i in instances))
    assert all(r.status == "done" for r in results)
    assert writer.transactions < 300
    counts = store.query("SELECT count(*) AS runs, count(DISTINCT instance_id) AS ids "
                         "FROM stage_runs").to_pylist()
    assert counts == [{"runs": 300, "ids": 300}]
    assert store.query("SELECT count(*) AS n FROM localizations").to_pylist() == [{"n": 600}]
