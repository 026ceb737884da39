"""Agentless reproduction tests: scripts written from the issue alone, kept when they reproduce it.

Contract (what a selector relies on):

- A test is a standalone Python script run as `python reproduce_bug.py` from the repository root
  (`SCRIPT_NAME`). It prints `Issue reproduced` when the bug shows, `Issue resolved` when the
  behaviour is fixed, `Other issues` otherwise. `verdict(output)` reads an output: `reproduced`
  when stdout contains "Issue reproduced" (Agentless' check), else `resolved` when it contains
  "Issue resolved", `timeout` when it was killed, else `other`.
- Generation is blind: the prompt holds the issue text only (no code, no patch). Sample 0 is
  greedy, the rest at `temperature`, as Agentless does.
- Each parsed test runs once on the original code in the sandbox (`ctx.executor`). Only tests
  whose verdict there is `reproduced` are kept; they are normalized (`normalize_test`: ast round
  trip without comments and docstrings, the function the script calls renamed `test_func`) and
  voted; the most common normal form wins, ties going to the earliest sample.
- `generate_reproduction_tests(...)` returns a `ReproductionResult` (all samples with their
  status, and the chosen one). The `agentless` generator, when its `reproduction` table is set,
  puts the chosen script in `Patch.test` of every candidate and `ReproductionResult.summary()` in
  `Patch.meta["reproduction"]`; a selector runs `run_reproduction_test(executor, repo, script,
  patch=candidate.diff)` and keeps candidates whose verdict is `resolved`.
- `agentless.reproduction` is also a generator of its own: one Patch per test sample whose diff
  creates `reproduce_bug.py` (the form Agentless stores tests in), `test` = the script, and
  `meta` = {"verdict", "reproduces", "votes", "chosen", "output"}.
"""

from __future__ import annotations

import ast
import sys
import uuid
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from swepipe.errors import InputError
from swepipe.execute.workcopy import PatchRejected
from swepipe.generate.prompting import (
    first_code_block, gather_samples, render, sample_params, show_output,
)
from swepipe.hashing import ComponentConfig, Runtime
from swepipe.patch.apply import make_diff
from swepipe.patch.normalize import normalize_python
from swepipe.protocols import Executor, StageContext
from swepipe.types import CodePointer, ExecutionOutput, Instance, Message, Patch

SCRIPT_NAME = "reproduce_bug.py"
Verdict = Literal["reproduced", "resolved", "other", "timeout"]
TestStatus = Literal["reproduces", "does_not_reproduce", "unparseable", "not_run"]


class ReproductionParams(BaseModel):
    """How reproduction tests are sampled (part of the config identity)."""

    model_config = {"extra": "forbid"}

    samples: int = Field(10, ge=1)
    """Test samples; sample 0 is greedy."""
    temperature: float = Field(0.8, ge=0)
    """Temperature of samples 1..N-1."""
    max_tokens: int | None = 1024
    """Completion limit per test (Agentless: 1024)."""
    seed: int | None = None
    """When set, sample i sends seed + i."""


class ReproductionTest(BaseModel):
    sample_idx: int
    script: str | None
    """The extracted script; None when the reply had no python block."""
    status: TestStatus
    verdict: Verdict | None = None
    """Verdict on the original code; None when the test did not run."""
    normalized: str | None = None
    output: str | None = None
    """What the run printed (as a model would be shown it), or why it did not run."""
    trajectory_id: str


class ReproductionResult(BaseModel):
    tests: list[ReproductionTest]
    chosen: int | None = None
    """`sample_idx` of the chosen test; None when no test reproduced the issue."""
    votes: dict[int, int] = Field(default_factory=dict)
    """Per reproducing sample, how many samples share its normal form."""

    @property
    def chosen_test(self) -> ReproductionTest | None:
        return next((t for t in self.tests if t.sample_idx == self.chosen), None)

    def summary(self) -> dict[str, object]:
        """The compact form stored in candidates' `meta["reproduction"]`."""
        return {"chosen": self.chosen, "samples": len(self.tests),
                "reproducing": sorted(self.votes),
                "votes": 0 if self.chosen is None else self.votes[self.chosen],
                "script_name": SCRIPT_NAME}


def verdict(output: ExecutionOutput) -> Verdict:
    """Read a reproduction test's output (see the module docstring)."""
    stdout = output.stdout or ""
    if "Issue reproduced" in stdout:
        return "reproduced"
    if output.timed_out:
        return "timeout"
    return "resolved" if "Issue resolved" in stdout else "other"


def normalize_test(script: str) -> str:
    """Agentless' test normal form: ast round trip without comments and docstrings, and the
    function called by the script's last line renamed `test_func`, so tests that differ only in
    names and comments vote together."""
    normal = normalize_python(script)
    try:
        last = ast.parse(normal).body[-1]
    except (SyntaxError, ValueError, IndexError):
        return normal
    if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call) \
            and isinstance(last.value.func, ast.Name):
        name = last.value.func.id
        normal = normalize_python(normal.replace(name, "test_func"))
    return normal


async def run_reproduction_test(executor: Executor, repo: Path, script: str, *,
                                patch: str | None = None, python: str = sys.executable,
                                timeout_s: float = 60.0) -> ExecutionOutput:
    """Run `script` as `reproduce_bug.py` in a fresh working copy (with `patch` applied)."""
    return await executor.run(repo, [python, SCRIPT_NAME], patch=patch,
                              files={SCRIPT_NAME: script}, timeout_s=timeout_s)


def _vote(tests: list[ReproductionTest]) -> tuple[int | None, dict[int, int]]:
    kept = [t for t in tests if t.status == "reproduces"]
    counts: dict[str, int] = {}
    for t in kept:
        counts[t.normalized or ""] = counts.get(t.normalized or "", 0) + 1
    votes = {t.sample_idx: counts[t.normalized or ""] for t in kept}
    if not kept:
        return None, votes
    # most votes, then the earliest sample (Agentless: first appearance)
    best = max(kept, key=lambda t: (votes[t.sample_idx], -t.sample_idx))
    return best.sample_idx, votes


async def generate_reproduction_tests(instance: Instance, ctx: StageContext,
                                      params: ReproductionParams, *, python: str = sys.executable,
                                      timeout_s: float = 60.0,
                                      max_concurrency: int = 8) -> ReproductionResult:
    """Sample tests from the issue alone, run each on the original code, vote (module docstring)."""
    if ctx.model is None or ctx.repo_dir is None or ctx.executor is None:
        raise InputError("reproduction tests need a model, a repository checkout and an executor")
    model, repo, executor = ctx.model, Path(ctx.repo_dir), ctx.executor
    prompt = render("agentless_reproduction", problem_statement=instance.problem_statement)
    messages = [Message(role="user", content=prompt)]

    async def one(i: int) -> ReproductionTest:
        trajectory = uuid.uuid4().hex
        params_i = sample_params(i, temperature=params.temperature,
                                 max_tokens=params.max_tokens, seed=params.seed)
        reply = await model.chat(messages, params_i, sample_idx=i, trajectory_id=trajectory)
        script = first_code_block(reply.text)
        if script is None:
            return ReproductionTest(sample_idx=i, script=None, status="unparseable",
                                    output="no ```python block in the reply",
                                    trajectory_id=trajectory)
        try:
            out = await run_reproduction_test(executor, repo, script, python=python,
                                              timeout_s=timeout_s)
        except PatchRejected as exc:  # cannot happen for our fixed file name; kept an outcome
            return ReproductionTest(sample_idx=i, script=script, status="not_run",
                                    output=str(exc), trajectory_id=trajectory)
        found = verdict(out)
        return ReproductionTest(
            sample_idx=i, script=script, verdict=found, normalized=normalize_test(script),
            status="reproduces" if found == "reproduced" else "does_not_reproduce",
            output=show_output(out, timeout_s=timeout_s, limit=1500), trajectory_id=trajectory)

    tests = await gather_samples(range(params.samples), one, max_concurrency)
    chosen, votes = _vote(tests)
    return ReproductionResult(tests=tests, chosen=chosen, votes=votes)


class ReproductionGeneratorConfig(ReproductionParams, ComponentConfig):
    """Reproduction tests as a generate stage of their own (see the module docstring)."""

    component: str = "agentless.reproduction"
    code_version: str = "1"
    python: Annotated[str, Runtime()] = sys.executable
    """Interpreter that runs the tests inside the executor (a SWE-bench image wants `python`)."""
    timeout_s: Annotated[float, Runtime()] = 60.0
    """Wall-time limit of one test run; a test that loops is killed and counts as not
    reproducing."""
    max_concurrency: Annotated[int, Runtime()] = 8
    """Samples in flight at once."""


class ReproductionGenerator:
    """`agentless.reproduction`: one Patch per test sample, the chosen one marked in meta."""

    Config = ReproductionGeneratorConfig

    def __init__(self, config: ReproductionGeneratorConfig) -> None:
        self.config = config

    async def generate(self, instance: Instance, context: list[CodePointer],
                       ctx: StageContext) -> list[Patch]:
        c = self.config
        params = ReproductionParams(samples=c.samples, temperature=c.temperature,
                                    max_tokens=c.max_tokens, seed=c.seed)
        result = await generate_reproduction_tests(instance, ctx, params, python=c.python,
                                                   timeout_s=c.timeout_s,
                                                   max_concurrency=c.max_concurrency)
        return [as_patch(t, result) for t in result.tests]


def as_patch(test: ReproductionTest, result: ReproductionResult) -> Patch:
    """A test sample as a Patch creating `reproduce_bug.py` (Agentless' `test_patch` form)."""
    meta = {"kind": "reproduction_test", "verdict": test.verdict,
            "reproduces": test.status == "reproduces",
            "votes": result.votes.get(test.sample_idx, 0),
            "chosen": test.sample_idx == result.chosen, "output": test.output}
    if test.script is None:
        return Patch(diff="", sample_idx=test.sample_idx, status="unparseable",
                     reason=test.output, trajectory_id=test.trajectory_id, meta=meta)
    return Patch(diff=make_diff({}, {SCRIPT_NAME: test.script + "\n"}),
                 normalized_diff=make_diff({}, {SCRIPT_NAME: test.normalized or ""}),
                 sample_idx=test.sample_idx, files=[SCRIPT_NAME], test=test.script,
                 trajectory_id=test.trajectory_id, meta=meta,
                 reason=None if test.status == "reproduces" else
                 f"does not reproduce the issue on the original code ({test.verdict})")
