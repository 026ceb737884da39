"""Agentless' filtered majority vote (`rerank.py --regression --reproduction`).

Over the usable candidates, in sample order:

1. Regression filter (`regression.py`): keep the candidates with the fewest failing regression
   tests. The minimum is taken over usable candidates (Agentless also counts empty samples,
   which always score 0 and so would make any failing candidate lose; we never choose those).
2. Reproduction filter: among those, keep the ones on which the chosen reproduction test says
   "Issue resolved". When none does, keep the regression survivors (Agentless' reset).
3. Majority vote over normalized diffs among the survivors; ties go to the earliest sample.

The reproduction test is `ctx.extras["reproduction_test"]` (a script) when the runner gives one,
else the script the candidates carry in `Patch.test` (the `agentless` generator puts the chosen
test in every candidate; see `generate/reproduction.py`). Its outcome per candidate is read from
or written to the test matrix (kind `reproduction`, id = sha256 of the script).

A filter whose results cannot be known (no executor, no tests, no reproduction test) is skipped,
and the rationale says which filters applied. No usable candidate: the empty patch is submitted.
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated

from pydantic import Field

from swepipe.execute.gold_tests import GoldTestConfig
from swepipe.hashing import ComponentConfig, Runtime
from swepipe.protocols import StageContext
from swepipe.select.candidates import (
    chosen, majority, nothing_usable, ordered, usable, vote_keyer,
)
from swepipe.select.regression import regression_failures
from swepipe.select.script_runner import ScriptRunConfig, reproduction_status
from swepipe.select.test_matrix import ensure_scripts, matrix_of, script_id
from swepipe.types import Instance, Patch, SamplingParams, Selection, patch_hash

METHOD = "agentless"


class AgentlessSelectConfig(ComponentConfig):
    component: str = "agentless"
    code_version: str = "1"
    regression: bool = True
    """Apply the regression filter."""
    reproduction: bool = True
    """Apply the reproduction filter."""
    filter_regression_with_model: bool = False
    """Let the model drop regression tests a correct fix may change (needs a model)."""
    prompt_version: str = "1"
    """Which `prompts/regression_filter_v<N>.txt` to use."""
    sampling: SamplingParams = Field(default_factory=lambda: SamplingParams(max_tokens=2048))
    """Sampling parameters of the regression-filter call."""
    gold_tests: Annotated[GoldTestConfig, Runtime()] = Field(default_factory=GoldTestConfig)
    """How regression tests are run."""
    scripts: Annotated[ScriptRunConfig, Runtime()] = Field(default_factory=ScriptRunConfig)
    """How the reproduction test is run."""


def reproduction_script(patches: list[Patch], ctx: StageContext) -> str | None:
    given = ctx.extras.get("reproduction_test")
    if given:
        return given
    carried = Counter(p.test for p in patches if p.test and p.test.strip())
    return carried.most_common(1)[0][0] if carried else None


class AgentlessSelector:
    Config = AgentlessSelectConfig

    def __init__(self, config: AgentlessSelectConfig) -> None:
        self.config = config

    async def select(self, instance: Instance, patches: list[Patch],
                     ctx: StageContext) -> Selection:
        cfg = self.config
        pool = [p for p in ordered(patches) if usable(p)]
        if not pool:
            return nothing_usable(patches, METHOD)
        notes = []
        if cfg.regression:
            reg = await regression_failures(
                instance, pool, ctx, filter_with_model=cfg.filter_regression_with_model,
                prompt_version=cfg.prompt_version, sampling=cfg.sampling, config=cfg.gold_tests)
            if reg is None:
                notes.append("regression filter skipped (no tests or no executor)")
            else:
                fewest = min(reg.failures.values())
                pool = [p for p in pool if reg.failures[patch_hash(p)] == fewest]
                notes.append(f"regression: {reg.note}; {len(pool)} candidates with the fewest "
                             f"failures ({fewest} of {len(reg.tests)})")
        if cfg.reproduction:
            passing, note = await self._reproduction(instance, patches, pool, ctx)
            notes.append(note)
            pool = passing or pool
        winner, votes = majority(pool, vote_keyer(ctx.repo_dir))
        notes.append(f"{int(votes[winner.sample_idx])} of {len(pool)} remaining candidates "
                     "agree")
        return chosen(winner, METHOD, {p.sample_idx: 0.0 for p in patches} | votes,
                      "; ".join(notes))

    async def _reproduction(self, instance: Instance, patches: list[Patch], pool: list[Patch],
                            ctx: StageContext) -> tuple[list[Patch], str]:
        """The candidates the reproduction test says are resolved, and a note."""
        script = reproduction_script(patches, ctx)
        if script is None:
            return [], "reproduction filter skipped (no reproduction test)"
        diffs = {patch_hash(p): p.diff for p in pool}
        fill = await ensure_scripts(matrix_of(ctx.extras), ctx.executor, ctx.repo_dir,
                                    instance.instance_id, diffs, [script], "reproduction",
                                    reproduction_status, self.config.scripts)
        tid = script_id(script)
        status = {h: fill.cells[(h, "reproduction", tid)].status for h in diffs}
        if all(s == "missing" for s in status.values()):
            return [], "reproduction filter skipped (no executor)"
        passing = [p for p in pool if status[patch_hash(p)] == "passed"]
        if not passing:
            return [], "no candidate passes the reproduction test; kept all"
        return passing, f"{len(passing)} candidates pass the reproduction test"
