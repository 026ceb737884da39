from swepipe.datasets.ingest import ingest_instances
from swepipe.execute.evaluate import evaluate
from swepipe.execute.sandbox import LocalSandbox
from swepipe.minibench import build_minibench
from swepipe.store.codecs import to_rows
from swepipe.store.writer import StageCommit, write_units
from swepipe.types import Patch

BROKEN = "diff --git a/nope.py b/nope.py\n--- a/nope.py\n+++ b/nope.py\n@@ -1 +1 @@\n-x\n+y\n"


async def test_gold_patch_resolves_and_results_are_reused(store, tmp_path):
    instances = build_minibench(tmp_path / "repos")[:1]
    (inst,) = instances
    ingest_instances(store, instances, "mini", "test")
    patches = [Patch(diff=inst.patch, sample_idx=0), Patch(diff="", sample_idx=1, status="empty"),
               Patch(diff=BROKEN, sample_idx=2)]
    with store.transaction() as conn:
        write_units(conn, [StageCommit("generate", "g" * 64, inst.instance_id, inst.content_hash(),
                                       "done", to_rows("generate", patches))])
    report = await evaluate(store, LocalSandbox(), tmp_path / "repos", tmp_path / "cache")
    assert (report.candidates, report.resolved, report.errors) == (3, 1, 1)
    rows = store.query("SELECT patch_hash, test_kind, status FROM test_runs "
                       "ORDER BY patch_hash, test_kind").to_pylist()
    by_hash = {}
    for r in rows:
        by_hash.setdefault(r["patch_hash"], []).append((r["test_kind"], r["status"]))
    assert by_hash[patches[0].content_hash] == [("fail_to_pass", "passed")] + [
        ("pass_to_pass", "passed")] * 2
    assert ("fail_to_pass", "failed") in by_hash[""]  # the original code fails the new test
    assert {s for _, s in by_hash[patches[2].content_hash]} == {"error"}
    again = await evaluate(store, LocalSandbox(), tmp_path / "repos", tmp_path / "cache")
    assert again.candidates == 0
