import json

from swepipe.models.scripted_rules import Rule, Script
from swepipe.types import CodePointer

from tests.generate import replies as R
from tests.generate.conftest import chat_requests, patch_rows, run_generator

REPAIR = r"generate \*SEARCH/REPLACE\* edits to fix the issue"
REPRO = r"complete test that can be used to reproduce the issue"


def repair_script(options: list[str], repro: list[str] | None = None) -> Script:
    rules = [Rule(pattern=REPAIR, reply=options)]
    if repro:
        rules.append(Rule(pattern=REPRO, reply=repro))
    return Script(rules=rules)


SAMPLE_REPLIES = [R.GOOD_ADD, R.BROKEN_MARKERS, R.MISSING_FILE, R.PROSE, R.NOT_FOUND, R.OUTSIDE,
                  R.SYNTAX_ERROR]


async def test_every_sample_is_a_patches_row_with_its_status_and_reason(
        store, make_server, repo, instance, context):
    server = make_server(repair_script(SAMPLE_REPLIES))
    spec = {"component": "agentless", "samples": 7, "seed": 0}
    run = await run_generator(store, server, spec, instance, context, repo=repo)
    assert run.result.status == "done"
    rows = patch_rows(store, run.config_hash)
    assert [r["sample_idx"] for r in rows] == list(range(7))
    assert [r["status"] for r in rows] == ["ok", "unparseable", "apply_failed", "empty",
                                           "apply_failed", "apply_failed", "apply_failed"]
    assert "a + b" in rows[0]["diff"] and rows[0]["files"] == ["calc/ops.py"]
    assert "does not exist" in rows[2]["reason"]
    assert "not found" in rows[4]["reason"]
    assert "climbs out" in rows[5]["reason"]
    assert not (repo.parent / "outside.py").exists()
    assert "does not parse" in rows[6]["reason"]
    assert all(r["reason"] for r in rows[1:])


async def test_sample_zero_is_greedy_and_each_patch_names_its_logged_conversation(
        store, make_server, repo, instance, context):
    server = make_server(repair_script(SAMPLE_REPLIES))
    spec = {"component": "agentless", "samples": 3, "temperature": 0.7, "seed": 0}
    run = await run_generator(store, server, spec, instance, context, repo=repo)
    seqs = store.query("SELECT sample_idx, trajectory_id, json_extract(sampling, '$.temperature') "
                       "AS t FROM sequences ORDER BY sample_idx").to_pylist()
    assert [float(s["t"]) for s in seqs] == [0.0, 0.7, 0.7]
    rows = patch_rows(store, run.config_hash)
    assert [r["trajectory_id"] for r in rows] == [s["trajectory_id"] for s in seqs]
    assert json.loads(rows[1]["meta"])["temperature"] == 0.7


async def test_rerun_reads_the_stage_cache_and_recompute_is_answered_by_the_call_cache(
        store, make_server, repo, instance, context):
    server = make_server(repair_script(SAMPLE_REPLIES))
    spec = {"component": "agentless", "samples": 4, "seed": 0}
    first = await run_generator(store, server, spec, instance, context, repo=repo)
    again = await run_generator(store, server, spec, instance, context, repo=repo)
    redo = await run_generator(store, server, spec, instance, context, repo=repo,
                               policy="recompute")
    assert again.result.from_cache and again.result.value == first.result.value
    assert redo.calls == 0 and redo.hits == 4
    assert [p.diff for p in redo.result.value] == [p.diff for p in first.result.value]
    assert chat_requests(server) == 4


async def test_generation_sample_uses_localization_sample_modulo_their_count(
        store, make_server, repo, instance):
    (repo / "calc" / "other.py").write_text("def other():\n    return 1\n")
    context = [CodePointer(file_path="calc/ops.py", sample_idx=0),
               CodePointer(file_path="calc/other.py", sample_idx=3)]
    server = make_server(repair_script([R.PROSE]))
    run = await run_generator(store, server, {"component": "agentless", "samples": 3},
                              instance, context, repo=repo)
    metas = [json.loads(r["meta"]) for r in patch_rows(store, run.config_hash)]
    assert [m["loc_sample"] for m in metas] == [0, 3, 0]
    assert [m["context_files"] for m in metas] == [["calc/ops.py"], ["calc/other.py"],
                                                   ["calc/ops.py"]]


async def test_no_code_to_show_records_empty_patches_without_calling_the_model(
        store, make_server, repo, instance):
    context = [CodePointer(file_path="calc/gone.py"), CodePointer(file_path="../../etc/passwd")]
    server = make_server(repair_script([R.GOOD_ADD]))
    run = await run_generator(store, server, {"component": "agentless", "samples": 2},
                              instance, context, repo=repo)
    rows = patch_rows(store, run.config_hash)
    assert [r["status"] for r in rows] == ["empty", "empty"]
    assert "not called" in rows[0]["reason"]
    assert json.loads(rows[0]["meta"])["missing_files"] == ["calc/gone.py", "../../etc/passwd"]
    assert chat_requests(server) == 0


async def test_reproduction_tests_are_voted_and_attached_to_every_candidate(
        store, make_server, repo, instance, context, sandbox, tmp_path):
    escape = tmp_path / "escaped.txt"
    repro = [R.REPRO_OK, R.REPRO_LOOPS, R.repro_writes_outside(str(escape)), R.REPRO_NO_CODE,
             R.REPRO_SAME_NORMAL_FORM, R.REPRO_OTHER]
    server = make_server(repair_script([R.GOOD_ADD, R.NOT_FOUND], repro))
    spec = {"component": "agentless", "samples": 2, "seed": 0, "test_timeout_s": 2,
            "reproduction": {"samples": 6, "seed": 0}}
    run = await run_generator(store, server, spec, instance, context, repo=repo,
                              executor=sandbox)
    rows = patch_rows(store, run.config_hash)
    assert len(rows) == 2 and all(r["test"] == R.REPRO_OK.split("\n", 1)[1].rsplit("```", 1)[0]
                                  .strip() for r in rows)
    summary = json.loads(rows[0]["meta"])["reproduction"]
    assert summary["chosen"] == 0 and summary["votes"] == 2
    assert summary["reproducing"] == [0, 4, 5]
    assert not escape.exists()
