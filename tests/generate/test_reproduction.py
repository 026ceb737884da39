import json

from swepipe.generate.reproduction import normalize_test, verdict
from swepipe.models.scripted_rules import Rule, Script
from swepipe.types import ExecutionOutput

from tests.generate import replies as R
from tests.generate.conftest import patch_rows, run_generator

REPRO = r"complete test that can be used to reproduce the issue"


def test_verdict_reads_the_agentless_prints_and_a_timeout():
    assert verdict(ExecutionOutput(stdout="x\nIssue reproduced\n", exit_code=0)) == "reproduced"
    assert verdict(ExecutionOutput(stdout="Issue resolved", exit_code=0)) == "resolved"
    assert verdict(ExecutionOutput(stdout="", exit_code=-9, timed_out=True)) == "timeout"
    assert verdict(ExecutionOutput(stdout="Other issues", exit_code=1)) == "other"


def test_tests_differing_in_names_comments_and_docstrings_normalize_equal():
    ok = R.REPRO_OK.split("\n", 1)[1].rsplit("```", 1)[0]
    same = R.REPRO_SAME_NORMAL_FORM.split("\n", 1)[1].rsplit("```", 1)[0]
    assert normalize_test(ok) == normalize_test(same)
    assert normalize_test(ok) != normalize_test(R.REPRO_OTHER)


async def test_each_test_sample_is_recorded_with_its_verdict_on_the_original_code(
        store, make_server, repo, instance, sandbox, tmp_path):
    escape = tmp_path / "escaped.txt"
    tests = [R.REPRO_OK, R.REPRO_LOOPS, R.repro_writes_outside(str(escape)), R.REPRO_NO_CODE,
             R.REPRO_SAME_NORMAL_FORM]
    server = make_server(Script(rules=[Rule(pattern=REPRO, reply=tests)]))
    spec = {"component": "agentless.reproduction", "samples": 5, "seed": 0, "timeout_s": 2}
    run = await run_generator(store, server, spec, instance, [], repo=repo, executor=sandbox)
    rows = patch_rows(store, run.config_hash)
    metas = [json.loads(r["meta"]) for r in rows]
    assert [m["verdict"] for m in metas] == ["reproduced", "timeout", "other", None,
                                             "reproduced"]
    assert [m["chosen"] for m in metas] == [True, False, False, False, False]
    assert [r["status"] for r in rows] == ["ok", "ok", "ok", "unparseable", "ok"]
    assert "timed out after 2 s" in metas[1]["output"]
    assert "Read-only file system" in metas[2]["output"] or "denied" in metas[2]["output"]
    assert not escape.exists()
    assert rows[0]["files"] == ["reproduce_bug.py"] and "+++ b/reproduce_bug.py" in rows[0]["diff"]
    prompts = store.query("SELECT c.text FROM sequences s, unnest(s.messages) AS m(m) "
                          "JOIN contents c ON c.content_hash = m.m.content_hash").to_pylist()
    assert all("def add" not in p["text"] for p in prompts)  # blind: the issue only
