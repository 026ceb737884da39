"""CodeMonkeys selection: test vote, then the selection state machine over the top candidates.

1. `test_vote.rank_by_tests`: every generated test on every candidate and the original code
   (from the test matrix when known), votes = tests passed, top `top_k` distinct candidates.
2. With more than one left and a model available, a conversation: the model sees the issue, the
   original text of the touched files, the candidates' diffs and an example test (the one the
   top-voted candidate carries, else the first generated test). Each turn it either writes a
   `<test>` script, which runs on the original code and on every top candidate (through the test
   matrix, so a resumed run re-executes nothing) and whose exit codes and output it then sees,
   or names `<choice>N</choice>`. At most `max_tests` tests are run.
3. Fallback to the top-voted candidate when the model fails (a `ModelError`), keeps answering
   unparseably (more than `max_misparses` times), or runs out of `max_turns`. The rationale says
   which happened; every turn is a `sequences` row under one trajectory id.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from pydantic import Field

from swepipe.errors import ModelError
from swepipe.hashing import Runtime
from swepipe.protocols import StageContext
from swepipe.select.candidates import chosen, nothing_usable, usable
from swepipe.select.prompts import (
    format_candidates, format_files, parse_choice, parse_test, prompt, touched_files,
)
from swepipe.select.script_runner import exit_code_status
from swepipe.select.test_matrix import TestRun, ensure_scripts, matrix_of, script_id
from swepipe.select.test_vote import Ranking, TestVoteConfig, describe, rank_by_tests
from swepipe.types import Instance, Message, Patch, SamplingParams, Selection, patch_hash

METHOD = "codemonkeys"


class CodeMonkeysConfig(TestVoteConfig):
    component: str = "codemonkeys"
    code_version: str = "1"
    prompt_version: str = "1"
    """Which `prompts/codemonkeys_*_v<N>.txt` files to use."""
    max_tests: int = 3
    """Tests the model may have run before it must choose."""
    max_turns: int = 6
    """Model turns before falling back to the top-voted candidate."""
    max_misparses: int = 1
    """Unparseable replies answered with a correction before falling back."""
    max_file_chars: int = 60_000
    """Budget for the touched files' text in the first prompt."""
    sampling: SamplingParams = Field(default_factory=lambda: SamplingParams(max_tokens=4096))
    """Sampling parameters of every turn."""
    max_output_chars: Annotated[int, Runtime()] = 2000
    """Tail of each test output shown to the model."""


def _show(run: TestRun | None, limit: int) -> str:
    if run is None or run.status == "missing":
        return "(not run: no executor)" if run is None or not run.output else \
            f"(could not run: {run.output[-limit:]})"
    code = "timed out" if run.status == "timeout" else f"exit code {run.exit_code}"
    return f"{code}\n{(run.output or '').strip()[-limit:]}"


class CodeMonkeysSelector:
    Config = CodeMonkeysConfig

    def __init__(self, config: CodeMonkeysConfig) -> None:
        self.config = config

    async def select(self, instance: Instance, patches: list[Patch],
                     ctx: StageContext) -> Selection:
        if not any(usable(p) for p in patches):
            return nothing_usable(patches, METHOD)
        ranking = await rank_by_tests(instance, patches, ctx, self.config)
        top = ranking.ranked
        vote_note = describe(ranking)
        if len(top) == 1:
            return chosen(top[0], METHOD, ranking.votes,
                          f"one distinct candidate after the vote. {vote_note}")
        if ctx.model is None:
            return chosen(top[0], METHOD, ranking.votes,
                          f"no model: top-voted candidate. {vote_note}")
        pick, why = await self._converse(instance, top, ranking, ctx)
        if pick is None:
            return chosen(top[0], METHOD, ranking.votes,
                          f"fallback to the top-voted candidate: {why}. {vote_note}")
        return chosen(top[pick], METHOD, ranking.votes, f"{why}. {vote_note}")

    async def _converse(self, instance: Instance, top: list[Patch], ranking: Ranking,
                        ctx: StageContext) -> tuple[int | None, str]:
        """The state machine: (index into `top`, what happened) or (None, why it failed)."""
        cfg, v = self.config, self.config.prompt_version
        example = next((p.test for p in top if p.test), None) or \
            (ranking.tests[0] if ranking.tests else "(no generated test)")
        messages = [Message(role="user", content=prompt(
            "codemonkeys_select", v, issue=instance.problem_statement,
            files=format_files(ctx.repo_dir, touched_files(top), cfg.max_file_chars),
            candidates=format_candidates(top), example_test=example.rstrip(),
            max_tests=str(cfg.max_tests)))]
        trajectory, tests_run, misparses = uuid.uuid4().hex, 0, 0
        for turn in range(cfg.max_turns):
            try:
                reply = (await ctx.model.chat(messages, cfg.sampling, trajectory_id=trajectory,
                                              turn=turn)).text
            except ModelError as exc:
                return None, f"model call failed ({exc})"
            messages.append(Message(role="assistant", content=reply))
            pick = parse_choice(reply, len(top))
            test = parse_test(reply) if pick is None else None
            if pick is not None:
                return pick, (f"the model chose candidate {pick + 1} after {tests_run} tests "
                              f"and {turn + 1} turns")
            if test is not None and tests_run < cfg.max_tests:
                tests_run += 1
                messages.append(Message(role="user", content=await self._results(
                    instance, top, test, ctx, tests_run)))
                continue
            misparses += 1
            if misparses > cfg.max_misparses:
                return None, f"{misparses} unparseable replies"
            messages.append(Message(role="user", content=prompt(
                "codemonkeys_misparse", v, count=str(len(top)))))
        return None, f"no choice within {cfg.max_turns} turns"

    async def _results(self, instance: Instance, top: list[Patch], test: str,
                       ctx: StageContext, tests_run: int) -> str:
        diffs = {"": ""} | {patch_hash(p): p.diff for p in top}
        fill = await ensure_scripts(matrix_of(ctx.extras), ctx.executor, ctx.repo_dir,
                                    instance.instance_id, diffs, [test], "generated",
                                    exit_code_status, self.config.scripts)
        tid, limit = script_id(test), self.config.max_output_chars
        parts = [f"<original_code>\n{_show(fill.cells.get(('', 'generated', tid)), limit)}\n"
                 "</original_code>"]
        parts += [f"<candidate number={i}>\n"
                  f"{_show(fill.cells.get((patch_hash(p), 'generated', tid)), limit)}\n"
                  "</candidate>" for i, p in enumerate(top, 1)]
        left = self.config.max_tests - tests_run
        step = (f"You may write {left} more test(s), or name your <choice>." if left > 0 else
                "You may not run more tests: name your <choice>N</choice> now.")
        return prompt("codemonkeys_results", self.config.prompt_version,
                      results="\n\n".join(parts), next_step=step)
