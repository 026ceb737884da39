import asyncio
import json

import pytest

from swepipe.generate.codemonkeys import CodeMonkeysConfig, Machine
from swepipe.generate.codemonkeys_state import MachineState, StateFile, parse_action
from swepipe.models.scripted_rules import Rule, Script
from swepipe.protocols import StageContext

from tests.generate import replies as R
from tests.generate.conftest import chat_requests, patch_rows, run_generator

FIXED_EXIT = ("import sys\nfrom calc.ops import add\n"
              "sys.exit(0 if add(2, 3) == 5 else 2)")
LOOPING = "while True:\n    pass"


def escaping_test(escape: str) -> str:
    return ("import sys\nfrom calc.ops import add\ntry:\n"
            f"    open({escape!r}, 'w').write('x')\n    print('wrote outside')\n"
            "except OSError as exc:\n    print('cannot write outside:', type(exc).__name__)\n"
            "sys.exit(0 if add(2, 3) == 5 else 2)")


def tagged(kind: str, body: str) -> str:
    return f"<{kind}>\n{body}\n</{kind}>"


def spec(tmp_path, **kw):
    return {"component": "codemonkeys", "samples": 1, "seed": 0, "test_timeout_s": 2,
            "state_dir": str(tmp_path / "states"), **kw}


def test_reply_with_two_actions_is_a_misparse_and_untagged_blocks_are_understood():
    assert parse_action(tagged("test", R.script("x = 1")) + "\n<done>").kind == "misparse"
    assert parse_action(R.GOOD_ADD).kind == "edit"
    assert parse_action(R.script("print(1)")).body == "print(1)"
    assert parse_action("<done>").kind == "done"
    assert parse_action(R.PROSE).reason == "no <test>, <edit> or <done> action found"


async def test_machine_survives_hostile_replies_and_ends_with_the_last_applied_edit(
        store, make_server, repo, instance, context, sandbox, tmp_path):
    escape = tmp_path / "escaped.txt"
    script = Script(queue=[
        R.PROSE,                                     # misparse
        tagged("edit", R.GOOD_ADD),                  # an edit before any test
        tagged("test", R.script(LOOPING)),           # killed by the timeout
        tagged("test", R.script(escaping_test(str(escape)))),
        tagged("edit", R.NOT_FOUND),                 # SEARCH text not in the file
        tagged("edit", R.MISSING_FILE),              # file does not exist
        tagged("edit", R.OUTSIDE),                   # path outside the repository
        tagged("edit", R.GOOD_ADD),
        "<done>"])
    server = make_server(script)
    run = await run_generator(store, server, spec(tmp_path, max_attempts=12), instance, context,
                              repo=repo, executor=sandbox)
    assert run.result.status == "done"
    (row,) = patch_rows(store, run.config_hash)
    meta = json.loads(row["meta"])
    assert row["status"] == "ok" and "+    return a + b" in row["diff"]
    assert row["test"] == escaping_test(str(escape))
    assert meta["attempt_history"] == ["MISPARSE", "MISPARSE", "EMITTED_TEST", "EMITTED_TEST",
                                       "EDIT_FAILED", "EDIT_FAILED", "EDIT_FAILED",
                                       "EMITTED_EDIT", "EMITTED_DONE"]
    assert (meta["finish_reason"], meta["last_original_exit"], meta["last_edited_exit"]) == (
        "done", 2, 0)
    assert not escape.exists()
    state = MachineState.model_validate_json(open(meta["state_file"]).read())
    shown = "\n".join(m.content for m in state.messages if m.role == "user")
    assert "timed out after 2 s" in shown and "cannot write outside" in shown
    assert "does not exist" in shown and "climbs out" in shown
    assert row["trajectory_id"] == state.trajectory_id
    assert chat_requests(server) == 9


async def test_machine_stops_after_max_attempts_and_still_runs_the_last_edit(
        store, make_server, repo, instance, context, sandbox, tmp_path):
    server = make_server(Script(rules=[
        Rule(pattern="First, write a test", reply=tagged("test", R.script(FIXED_EXIT))),
        Rule(pattern="Your (test script was run|edit produced)",
             reply=tagged("edit", R.GOOD_ADD))]))
    run = await run_generator(store, server, spec(tmp_path, max_attempts=3), instance, context,
                              repo=repo, executor=sandbox)
    (row,) = patch_rows(store, run.config_hash)
    meta = json.loads(row["meta"])
    assert meta["attempt_history"] == ["EMITTED_TEST", "EMITTED_EDIT", "EMITTED_EDIT"]
    assert meta["finish_reason"] == "max_attempts" and meta["last_edited_exit"] == 0
    assert chat_requests(server) == 3


async def test_machine_without_an_applied_edit_records_why(
        store, make_server, repo, instance, context, sandbox, tmp_path):
    server = make_server(Script(rules=[
        Rule(pattern="First, write a test", reply=tagged("test", R.script(FIXED_EXIT))),
        Rule(pattern=".", reply=tagged("edit", R.MISSING_FILE))]))
    run = await run_generator(store, server, spec(tmp_path, max_attempts=2), instance, context,
                              repo=repo, executor=sandbox)
    (row,) = patch_rows(store, run.config_hash)
    assert row["status"] == "apply_failed" and row["diff"] == ""
    assert "does not exist" in row["reason"] and row["test"] == FIXED_EXIT


async def test_a_patch_the_sandbox_refuses_is_shown_as_a_run_that_did_not_happen(
        repo, sandbox, tmp_path):
    config = CodeMonkeysConfig(test_timeout_s=2)
    state = MachineState(key="k", sample_index=0, trajectory_id="t", test_files=[FIXED_EXIT])
    machine = Machine(config, StageContext(model=None, repo_dir=repo, executor=sandbox), repo,
                      state, StateFile(None))
    out = await machine._execute("diff --git a/calc/ops.py b/calc/ops.py\n--- a/calc/ops.py\n"
                                 "+++ b/calc/ops.py\n@@ -1,1 +1,1 @@\n-nothing here\n+x\n")
    assert out.exit_code == -1 and "apply failed" in out.stderr


# --- resume: the conversation depends only on what the machine has seen, so two runs match ---

RESUME_SCRIPT = Script(rules=[
    Rule(pattern="Your edit produced", on="conversation", reply="<done>"),
    Rule(pattern="Your edit could not be used", on="conversation",
         reply=tagged("edit", R.GOOD_ADD)),
    Rule(pattern="Your test script was run", on="conversation", reply=tagged("edit", R.NOT_FOUND)),
    Rule(pattern="First, write a test", reply=[tagged("test", R.script(FIXED_EXIT)),
                                               tagged("test", R.script("# v2\n" + FIXED_EXIT))]),
])
CALLS_PER_MACHINE = 4  # test, failed edit, edit, done


class CancelOnRun:
    """An executor that cancels the stage task when its n-th run starts (a kill mid-machine)."""

    def __init__(self, inner, n: int) -> None:
        self.inner, self.n, self.runs, self.task = inner, n, 0, None

    async def run(self, *args, **kwargs):
        self.runs += 1
        if self.runs == self.n:
            self.task.cancel()
            await asyncio.sleep(3600)
        return await self.inner.run(*args, **kwargs)


class CancelAfterReply:
    """A model handle that cancels the stage right after the n-th reply arrived (before the
    machine saved it)."""

    def __init__(self, inner, n: int) -> None:
        self.inner, self.n, self.replies, self.task = inner, n, 0, None
        self.name = inner.name

    async def chat(self, *args, **kwargs):
        reply = await self.inner.chat(*args, **kwargs)
        self.replies += 1
        if self.replies == self.n:
            self.task.cancel()
            await asyncio.sleep(3600)
        return reply

    async def drain(self):
        await self.inner.drain()


def distinct_requests(store) -> int:
    rows = store.query("SELECT count(DISTINCT request_hash) AS n FROM sequences").to_pylist()
    return rows[0]["n"]


@pytest.mark.parametrize("kill", ["during_a_test_run", "right_after_a_reply"])
async def test_killed_machines_resume_without_repeating_a_model_call(
        store, make_server, repo, instance, context, sandbox, tmp_path, kill):
    server = make_server(RESUME_SCRIPT)
    config = spec(tmp_path, samples=2, max_attempts=6)
    if kill == "during_a_test_run":
        killer, wrap = CancelOnRun(sandbox, n=3), None
        executor = killer
    else:
        killer, executor = None, sandbox

        def wrap(model):
            nonlocal killer
            killer = CancelAfterReply(model, n=5)
            return killer
    task = asyncio.create_task(run_generator(store, server, config, instance, context,
                                             repo=repo, executor=executor, wrap_model=wrap))
    if kill == "during_a_test_run":
        killer.task = task
    else:
        while killer is None:
            await asyncio.sleep(0)
        killer.task = task
    with pytest.raises(asyncio.CancelledError):
        await task
    before = chat_requests(server)
    assert 0 < before < 2 * CALLS_PER_MACHINE
    assert patch_rows(store, "%") == [] and store.query(
        "SELECT count(*) AS n FROM stage_runs").to_pylist()[0]["n"] == 0

    resumed = await run_generator(store, server, config, instance, context, repo=repo,
                                  executor=sandbox)
    assert resumed.result.status == "done"
    assert chat_requests(server) == 2 * CALLS_PER_MACHINE == distinct_requests(store)
    assert resumed.calls == 2 * CALLS_PER_MACHINE - before
    # a reply that arrived but was not saved yet is answered by the call cache
    # replies recorded before the kill but not yet in the machine's state come from the call
    # cache (how many depends on timing); none of them reached the server twice (above)
    rows = patch_rows(store, resumed.config_hash)
    assert [r["status"] for r in rows] == ["ok", "ok"]
    assert all(json.loads(r["meta"])["attempt_history"] == [
        "EMITTED_TEST", "EDIT_FAILED", "EMITTED_EDIT", "EMITTED_DONE"] for r in rows)


def test_a_state_saved_by_another_run_or_format_is_never_resumed(tmp_path):
    file = StateFile(tmp_path / "0.json")
    file.save(MachineState(key="run-a", sample_index=0, trajectory_id="t", attempt_counter=3))
    assert file.load("run-a").attempt_counter == 3
    assert file.load("run-b") is None
    (tmp_path / "0.json").write_text("{not json")
    assert file.load("run-a") is None
