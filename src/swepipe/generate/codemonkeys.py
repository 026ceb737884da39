"""CodeMonkeys generation: a state machine that writes a test and an edit, runs both, and revises.

Per machine (sample):

1. `ask` the model for a test script (`prompts/codemonkeys_start.txt`): exit 2 = issue not fixed,
   0 = fixed, 1 = crash. Until a test exists, any other action is answered with a correction.
2. `run_test`: run it on the original code (and on the last applied edit, if any) and show the
   outputs.
3. `ask`: the model replies with one action (`codemonkeys_state.parse_action`): `<edit>`
   (SEARCH/REPLACE, always applied to the original code), `<test>` (rewrite the test), `<done>`.
   An edit that does not apply is shown back with its reason (`EDIT_FAILED`); a reply that holds
   no action or several is shown back too (`MISPARSE`). Both use up an attempt.
4. `run_edit`: run the current test on the original and the edited code, show both outputs and
   the diff; back to 3.

The machine stops at `<done>` or after `max_attempts` model replies (an edit or test in the last
reply is still run, so the candidate has outputs). The candidate is the last edit that applied
(`Patch.test` = the last test script); without one, a Patch with the last edit's failure status
and reason, or `empty` when the model proposed no edit. `meta` carries the attempt history, the
counts and the last exit codes; the full state is the JSON state file (`meta["state_file"]`).

Resume: the state is saved after every step (`codemonkeys_state.StateFile`, under `state_dir`),
so a killed run continues from the last completed step without repeating model calls or test
runs already recorded. A reply enters the state only once its `sequences` row is durable
(`recorded`), so the state never holds a turn the store lost; a reply that arrived but was not
saved is asked for again and answered by the call cache. Test outputs shown to the model are
scrubbed of run-specific text (`prompting.scrub`), so a replayed conversation hits the call cache
even when no state was saved.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import uuid
from pathlib import Path
from typing import Annotated

from pydantic import Field

from swepipe.errors import InputError
from swepipe.execute.workcopy import PatchRejected
from swepipe.generate.codemonkeys_state import Action, MachineState, StateFile, parse_action
from swepipe.generate.context import pointers_for_sample, render_context
from swepipe.generate.prompting import gather_samples, render, sample_params, show_output
from swepipe.hashing import ComponentConfig, Runtime, canonical_json
from swepipe.patch.search_replace import patch_from_output
from swepipe.protocols import Model, StageContext
from swepipe.types import CodePointer, ExecutionOutput, Instance, Message, Patch

SCRIPT_NAME = "swepipe_issue_test.py"
EXIT_MEANING = {0: "the issue is fixed", 1: "the test crashed", 2: "the issue is NOT fixed"}


def default_state_dir() -> Path:
    """`$SWEPIPE_CACHE_DIR/codemonkeys`, else `~/.cache/swepipe/codemonkeys`."""
    base = os.environ.get("SWEPIPE_CACHE_DIR") or Path.home() / ".cache" / "swepipe"
    return Path(base) / "codemonkeys"


class CodeMonkeysConfig(ComponentConfig):
    """The CodeMonkeys generation state machine (see the module docstring)."""

    component: str = "codemonkeys"
    code_version: str = "1"
    samples: int = Field(10, ge=1)
    """Independent machines per instance (CodeMonkeys: 10)."""
    temperature: float = Field(0.5, ge=0)
    """Sampling temperature of every machine."""
    greedy_first: bool = False
    """Run machine 0 greedily (temperature 0)."""
    max_tokens: int | None = 4096
    """Completion limit per reply."""
    seed: int | None = None
    """When set, machine i sends seed + i."""
    max_attempts: int = Field(8, ge=1)
    """Model replies per machine, the first test included (CodeMonkeys: 8)."""
    context_window: int = Field(10, ge=0)
    """Lines around located spans; files without spans are shown whole (CodeMonkeys' packing)."""
    max_files: int | None = None
    """At most this many files in the context; None = all the localizer chose."""
    output_chars: int = Field(6000, ge=200)
    """Characters of stdout and of stderr shown per run (head and tail kept)."""
    check_syntax: bool = True
    """An edit that leaves a Python file unparseable does not apply."""
    python: Annotated[str, Runtime()] = sys.executable
    """Interpreter that runs the test script inside the executor."""
    test_timeout_s: Annotated[float, Runtime()] = 60.0
    """Wall-time limit of one test run (a looping test is killed and shown as timed out)."""
    state_dir: Annotated[Path | None, Runtime()] = None
    """Where machine states are saved; None = `<run cache_dir>/codemonkeys` under the runner,
    else `default_state_dir()`."""
    save_state: Annotated[bool, Runtime()] = True
    """False keeps states in memory: a resume then replays the machine through the call cache."""
    max_concurrency: Annotated[int, Runtime()] = 10
    """Machines running at once."""


async def recorded(model: Model) -> None:
    """Wait until the model calls made so far are durable in `sequences`.

    Why: a reply is saved in the machine state only once its `sequences` row is written. Saved
    earlier, a kill before the store writer's next commit would lose the row for good (the
    resumed machine never asks again), leaving a turn missing from the training data; saved
    after, a kill in between costs at most a repeat of that one request, which the call cache
    answers whenever the row did make it."""
    await model.drain()


class Machine:
    """One CodeMonkeys machine; `run()` steps it to the end, saving after every step."""

    def __init__(self, config: CodeMonkeysConfig, ctx: StageContext, repo: Path,
                 state: MachineState, file: StateFile) -> None:
        self.c, self.ctx, self.repo, self.state, self.file = config, ctx, repo, state, file

    async def run(self) -> MachineState:
        while self.state.pending != "done":
            step = self.state.pending
            await {"ask": self._ask, "run_test": self._run_test,
                   "run_edit": self._run_edit}[step]()
            if self.state.pending == "ask" and self.state.attempt_counter >= self.c.max_attempts:
                self.state.pending, self.state.finish_reason = "done", "max_attempts"
            self.state.state_counter += 1
            self.state.state_history.append(step)
            self.file.save(self.state)
        return self.state

    def _say(self, text: str, next_step: str = "ask") -> None:
        self.state.messages.append(Message(role="user", content=text))
        self.state.pending = next_step  # type: ignore[assignment]

    async def _ask(self) -> None:
        s, c = self.state, self.c
        params = sample_params(s.sample_index, temperature=c.temperature,
                               max_tokens=c.max_tokens, seed=c.seed, greedy_first=c.greedy_first)
        reply = await self.ctx.model.chat(s.messages, params, sample_idx=s.sample_index,
                                          trajectory_id=s.trajectory_id, turn=s.attempt_counter)
        await recorded(self.ctx.model)
        s.messages.append(Message(role="assistant", content=reply.text))
        s.attempt_counter += 1
        action = parse_action(reply.text)
        if action.kind != "misparse" and s.test is None and action.kind != "test":
            action = Action("misparse", reason="write the test script first (<test>)")
        if action.kind == "misparse":
            s.attempt_history.append("MISPARSE")
            self._say(render("codemonkeys_misparse", reason=action.reason or ""))
        elif action.kind == "test":
            s.attempt_history.append("EMITTED_TEST")
            s.test_files.append(action.body)
            s.pending = "run_test"
        elif action.kind == "done":
            s.attempt_history.append("EMITTED_DONE")
            s.pending, s.finish_reason = "done", "done"
        else:
            s.search_replaces.append(action.body)
            patch = patch_from_output(action.body, self.repo, sample_idx=s.sample_index,
                                      check_syntax=c.check_syntax)
            s.edits.append(patch)
            if patch.status == "ok":
                s.attempt_history.append("EMITTED_EDIT")
                s.patches.append(patch.diff)
                s.pending = "run_edit"
            else:
                s.attempt_history.append("EDIT_FAILED")
                self._say(render("codemonkeys_edit_failed",
                                 reason=f"{patch.status}: {patch.reason}"))

    async def _execute(self, patch: str | None) -> ExecutionOutput:
        try:
            return await self.ctx.executor.run(
                self.repo, [self.c.python, SCRIPT_NAME], patch=patch,
                files={SCRIPT_NAME: self.state.test or ""}, timeout_s=self.c.test_timeout_s)
        except PatchRejected as exc:  # refused or did not apply in the working copy
            return ExecutionOutput(exit_code=-1, stderr=f"not run: {exc}")

    def _show(self, out: ExecutionOutput) -> str:
        return show_output(out, timeout_s=self.c.test_timeout_s, limit=self.c.output_chars,
                           meaning=EXIT_MEANING)

    async def _run_test(self) -> None:
        s = self.state
        original = await self._execute(None)
        s.original_codebase_outputs.append(original)
        edited_part, or_done = "", ""
        if s.patch is not None:
            edited = await self._execute(s.patch.diff)
            s.edited_codebase_outputs.append(edited)
            edited_part = f"\nand on the code as your last edit left it:\n{self._show(edited)}\n"
            or_done = ", or <done> if your last edit already passes it"
        self._say(render("codemonkeys_test_ran", original_output=self._show(original),
                         edited_part=edited_part, or_done=or_done))

    async def _run_edit(self) -> None:
        s = self.state
        edited = await self._execute(s.patches[-1])
        s.edited_codebase_outputs.append(edited)
        # the current test already ran on the original code when it was written
        self._say(render("codemonkeys_edit_ran", diff=s.patches[-1].rstrip("\n"),
                         original_output=self._show(s.original_codebase_outputs[-1]),
                         edited_output=self._show(edited)))


def candidate(state: MachineState, state_file: StateFile) -> Patch:
    """The machine's candidate (see the module docstring)."""
    meta = {"attempts": state.attempt_counter, "finish_reason": state.finish_reason,
            "attempt_history": state.attempt_history, "steps": state.state_counter,
            "tests_written": len(state.test_files), "edits_proposed": len(state.search_replaces),
            "last_original_exit": (state.original_codebase_outputs[-1].exit_code
                                   if state.original_codebase_outputs else None),
            "last_edited_exit": (state.edited_codebase_outputs[-1].exit_code
                                 if state.edited_codebase_outputs else None),
            "state_file": str(state_file.path) if state_file.path else None}
    common = {"sample_idx": state.sample_index, "test": state.test,
              "trajectory_id": state.trajectory_id}
    if (patch := state.patch) is not None:
        return patch.model_copy(update={**common, "meta": {**patch.meta, **meta}})
    last = state.edits[-1] if state.edits else None
    if last is None:
        return Patch(diff="", status="empty", reason="the model proposed no edit", meta=meta,
                     **common)
    return Patch(diff="", status=last.status, meta={**last.meta, **meta}, **common,
                 reason=f"no edit applied; the last one: {last.reason}")


class CodeMonkeysGenerator:
    Config = CodeMonkeysConfig

    def __init__(self, config: CodeMonkeysConfig) -> None:
        self.config = config

    def state_key(self, instance: Instance, context: list[CodePointer], model_name: str) -> str:
        body = {"config": self.config.hash(), "instance": instance.content_hash(),
                "context": [p.model_dump(mode="json") for p in context], "model": model_name}
        return hashlib.sha256(canonical_json(body).encode()).hexdigest()

    def state_file(self, instance_id: str, key: str, sample: int,
                   run_cache: Path | None = None) -> StateFile:
        if not self.config.save_state:
            return StateFile(None)
        # the run's cache dir (what the runner passes) before the user-wide default: a new work
        # dir must not resume machines some other store left behind
        root = self.config.state_dir or (run_cache / "codemonkeys" if run_cache
                                         else default_state_dir())
        safe = re.sub(r"[^\w.-]", "_", instance_id).lstrip(".") or "_"
        return StateFile(root / safe / key[:20] / f"{sample}.json")

    def new_state(self, instance: Instance, context: list[CodePointer], repo: Path, key: str,
                  sample: int) -> MachineState:
        _, pointers = pointers_for_sample(context, sample)
        shown = render_context(pointers, repo, window=self.config.context_window,
                               max_files=self.config.max_files)
        system = render("codemonkeys_system", script_name=SCRIPT_NAME,
                        timeout=f"{self.config.test_timeout_s:g}",
                        max_attempts=str(self.config.max_attempts))
        start = render("codemonkeys_start", problem_statement=instance.problem_statement,
                       context=shown.text or "(no code was localized)")
        return MachineState(key=key, sample_index=sample, trajectory_id=uuid.uuid4().hex,
                            messages=[Message(role="system", content=system),
                                      Message(role="user", content=start)])

    async def generate(self, instance: Instance, context: list[CodePointer],
                       ctx: StageContext) -> list[Patch]:
        if ctx.model is None or ctx.repo_dir is None or ctx.executor is None:
            raise InputError("the codemonkeys generator needs a model, a repository checkout "
                             "and an executor")
        repo = Path(ctx.repo_dir)
        key = self.state_key(instance, context, ctx.model.name)

        async def one(sample: int) -> Patch:
            file = self.state_file(instance.instance_id, key, sample,
                                   ctx.extras.get("cache_dir"))
            state = file.load(key) or self.new_state(instance, context, repo, key, sample)
            final = await Machine(self.config, ctx, repo, state, file).run()
            return candidate(final, file)

        return await gather_samples(range(self.config.samples), one, self.config.max_concurrency)
