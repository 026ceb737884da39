"""Agentless regression tests: which existing tests a candidate breaks.

1. The candidate regression tests are `ctx.extras["regression_tests"]` (test ids, e.g. the tests
   Agentless collected from the repository) when the runner gives them, else the instance's
   PASS_TO_PASS list.
2. They run on the original code; only those that pass there are regression tests (Agentless'
   `tests_passing_in_original_repo`).
3. Optionally a model drops the tests a correct fix may legitimately change (Agentless'
   `select_regression` step), replying `<exclude>one id per line</exclude>`. A failed call or a
   reply without the tags keeps every test; the note says so.
4. Each distinct candidate runs the kept tests; its count is the number that do not pass.

Tests run through `execute.gold_tests` (an instance copy whose PASS_TO_PASS are these tests and
with no test patch), and every outcome goes to the test matrix under kind `regression`, so a
resumed run reads them back instead of running them again. Unknown without an executor: then
`regression_failures` returns None and the caller skips the filter.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from dataclasses import dataclass

from swepipe.errors import ModelError
from swepipe.execute.gold_tests import GoldTestConfig, run_gold_tests
from swepipe.protocols import StageContext
from swepipe.select.prompts import prompt
from swepipe.select.test_matrix import TestMatrix, TestRun, matrix_of
from swepipe.types import Instance, Message, Patch, SamplingParams, patch_hash

KIND = "regression"
_EXCLUDE = re.compile(r"<exclude>(.*?)</exclude>", re.DOTALL | re.IGNORECASE)


@dataclass
class RegressionResult:
    failures: dict[str, int]
    """Failing regression tests per candidate patch_hash."""
    tests: list[str]
    """The regression tests counted (passing on the original code, not excluded)."""
    note: str


async def _outcomes(instance: Instance, h: str, diff: str, tests: list[str],
                    matrix: TestMatrix, ctx: StageContext, config: GoldTestConfig
                    ) -> dict[str, str] | None:
    """Status per test on one candidate, from the matrix or by running them; None if unknown."""
    keys = [(h, KIND, t) for t in tests]
    cells = await matrix.lookup(instance.instance_id, keys)
    if all(k in cells for k in keys):
        return {t: cells[(h, KIND, t)].status for t in tests}
    if ctx.executor is None or ctx.repo_dir is None:
        return None
    probe = instance.model_copy(update={"fail_to_pass": [], "pass_to_pass": tests,
                                        "test_patch": ""})
    result = await run_gold_tests(probe, diff, ctx.executor, ctx.repo_dir, config)
    if result.status == "error":  # the sandbox failed; nothing to conclude or record
        return None
    found = {o.test_id: o.status for o in result.outcomes}
    runs = [TestRun(patch_hash=h, test_kind=KIND, test_id=t,
                    status=found.get(t, "error") if result.status == "ok" else "error",
                    output=None if result.status == "ok" else result.reason,
                    executor=type(ctx.executor).__name__) for t in tests]
    await matrix.record(instance.instance_id, runs)
    return {r.test_id: r.status for r in runs}


async def _exclude_with_model(instance: Instance, tests: list[str], ctx: StageContext,
                              version: str, sampling: SamplingParams) -> tuple[set[str], str]:
    text = prompt("regression_filter", version, issue=instance.problem_statement,
                  tests="\n".join(tests))
    try:
        reply = (await ctx.model.chat([Message(role="user", content=text)], sampling,
                                      trajectory_id=uuid.uuid4().hex)).text
    except ModelError as exc:
        return set(), f"regression filter call failed ({exc}); kept every test"
    found = _EXCLUDE.findall(reply or "")
    if not found:
        return set(), "regression filter reply unparseable; kept every test"
    names = {line.strip() for line in found[-1].splitlines()}
    dropped = {t for t in tests if t in names}
    return dropped, f"the model excluded {len(dropped)} regression tests"


async def regression_failures(instance: Instance, pool: list[Patch], ctx: StageContext, *,
                              filter_with_model: bool, prompt_version: str,
                              sampling: SamplingParams, config: GoldTestConfig,
                              concurrency: int = 4) -> RegressionResult | None:
    """Failing regression tests per distinct candidate, or None when they cannot be known."""
    tests = list(dict.fromkeys(ctx.extras.get("regression_tests") or instance.pass_to_pass))
    if not tests:
        return None
    matrix = matrix_of(ctx.extras)
    original = await _outcomes(instance, "", "", tests, matrix, ctx, config)
    if original is None:
        return None
    kept = [t for t in tests if original[t] == "passed"]
    note = f"{len(kept)} of {len(tests)} tests pass on the original code"
    if filter_with_model and kept and ctx.model is not None:
        dropped, why = await _exclude_with_model(instance, kept, ctx, prompt_version, sampling)
        kept, note = [t for t in kept if t not in dropped], f"{note}; {why}"
    gate = asyncio.Semaphore(max(concurrency, 1))

    async def count(h: str, diff: str) -> tuple[str, int | None]:
        async with gate:
            found = await _outcomes(instance, h, diff, kept, matrix, ctx, config) if kept else {}
        return h, None if found is None else sum(s != "passed" for s in found.values())

    diffs = {patch_hash(p): p.diff for p in pool}
    counted = dict(await asyncio.gather(*(count(h, d) for h, d in diffs.items())))
    if any(v is None for v in counted.values()):
        return None
    return RegressionResult({h: int(v) for h, v in counted.items()}, kept, note)
