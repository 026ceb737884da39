"""Baselines: random, first, and oracle selection (the bounds a selector is compared against).

- `random`: a usable candidate drawn with `random.Random(f"{seed}:{instance_id}")`, so a config
  picks the same candidate on every run and different instances draw independently.
- `first`: the earliest usable candidate (the greedy sample when index 0 is greedy).
- `oracle`: the candidate that does best on the instance's gold tests. Scores come from, in
  order: a SWE-bench harness verdict in `test_runs` (kind `swebench`, id `resolved`, as the
  CodeMonkeys import writes it); the FAIL_TO_PASS / PASS_TO_PASS rows in `test_runs` (through the
  test matrix); running the gold tests (`execute.gold_tests`) when an executor and a checkout are
  there, recording the outcomes. The score is the share of gold tests passed (1.0 = resolved).
  When some candidate cannot be scored that way, every candidate is scored by exact match of its
  normalized diff with the normalized gold patch. Ties go to the earliest sample.
"""

from __future__ import annotations

import random
from typing import Annotated

from pydantic import Field

from swepipe.execute.gold_tests import GoldTestConfig, run_gold_tests
from swepipe.hashing import ComponentConfig, Runtime
from swepipe.protocols import StageContext
from swepipe.select.candidates import chosen, nothing_usable, ordered, usable, vote_keyer
from swepipe.select.test_matrix import TestMatrix, TestRun, matrix_of
from swepipe.types import Instance, Patch, Selection, patch_hash


class RandomConfig(ComponentConfig):
    component: str = "random"
    code_version: str = "1"
    seed: int = 0
    """Mixed with the instance id to seed the draw."""


class RandomSelector:
    Config = RandomConfig
    uses_model = False  # the model identity stays out of its config hash
    needs_repo = False  # runs without a checkout (`repos_dir` unset)

    def __init__(self, config: RandomConfig) -> None:
        self.config = config

    async def select(self, instance: Instance, patches: list[Patch],
                     ctx: StageContext) -> Selection:
        pool = [p for p in ordered(patches) if usable(p)]
        if not pool:
            return nothing_usable(patches, "random")
        pick = random.Random(f"{self.config.seed}:{instance.instance_id}").choice(pool)
        scores = {p.sample_idx: float(p is pick) for p in patches}
        return chosen(pick, "random", scores,
                      f"drawn with seed {self.config.seed} from {len(pool)} usable candidates")


class FirstConfig(ComponentConfig):
    component: str = "first"
    code_version: str = "1"


class FirstSelector:
    Config = FirstConfig
    uses_model = False  # the model identity stays out of its config hash
    needs_repo = False  # runs without a checkout (`repos_dir` unset)

    def __init__(self, config: FirstConfig) -> None:
        self.config = config

    async def select(self, instance: Instance, patches: list[Patch],
                     ctx: StageContext) -> Selection:
        pool = [p for p in ordered(patches) if usable(p)]
        if not pool:
            return nothing_usable(patches, "first")
        return chosen(pool[0], "first", {p.sample_idx: float(p is pool[0]) for p in patches},
                      "earliest usable candidate")


class OracleConfig(ComponentConfig):
    component: str = "oracle"
    code_version: str = "1"
    run_gold_tests: bool = True
    """Run the gold tests for candidates without recorded outcomes (needs an executor)."""
    gold_tests: Annotated[GoldTestConfig, Runtime()] = Field(default_factory=GoldTestConfig)
    """How gold tests are run."""


class OracleSelector:
    Config = OracleConfig
    uses_model = False  # the model identity stays out of its config hash
    needs_repo = False  # runs without a checkout (`repos_dir` unset)

    def __init__(self, config: OracleConfig) -> None:
        self.config = config

    async def select(self, instance: Instance, patches: list[Patch],
                     ctx: StageContext) -> Selection:
        pool = [p for p in ordered(patches) if usable(p)]
        if not pool:
            return nothing_usable(patches, "oracle")
        scores = await self._gold_test_scores(instance, pool, ctx)
        how = "share of gold tests passed"
        if scores is None:
            key = vote_keyer(ctx.repo_dir)
            gold = key(Patch(diff=instance.patch)) if instance.patch else None
            scores = {p.sample_idx: float(gold is not None and key(p) == gold) for p in pool}
            how = "exact match with the normalized gold patch (no gold-test outcomes)"
        best = max(pool, key=lambda p: (scores[p.sample_idx], -p.sample_idx))
        return chosen(best, "oracle", {p.sample_idx: 0.0 for p in patches} | scores,
                      f"best by {how}: {scores[best.sample_idx]:.2f}")

    async def _gold_test_scores(self, instance: Instance, pool: list[Patch],
                                ctx: StageContext) -> dict[int, float] | None:
        tests = [("fail_to_pass", t) for t in instance.fail_to_pass] + \
            [("pass_to_pass", t) for t in instance.pass_to_pass]
        matrix = matrix_of(ctx.extras)
        by_hash: dict[str, float] = {}
        for h, diff in {patch_hash(p): p.diff for p in pool}.items():
            score = await self._score(instance, h, diff, tests, matrix, ctx)
            if score is None:
                return None
            by_hash[h] = score
        return {p.sample_idx: by_hash[patch_hash(p)] for p in pool}

    async def _score(self, instance: Instance, h: str, diff: str, tests: list[tuple[str, str]],
                     matrix: TestMatrix, ctx: StageContext) -> float | None:
        keys = [(h, "swebench", "resolved")] + [(h, kind, t) for kind, t in tests]
        cells = await matrix.lookup(instance.instance_id, keys)
        if (verdict := cells.get(keys[0])) is not None:
            return float(verdict.status == "passed")
        if not tests:
            return None
        if any(k not in cells for k in keys[1:]):
            if not (self.config.run_gold_tests and ctx.executor and ctx.repo_dir):
                return None
            result = await run_gold_tests(instance, diff, ctx.executor, ctx.repo_dir,
                                          self.config.gold_tests)
            if result.status == "error":  # the sandbox failed: nothing to conclude or record
                return None
            status = {o.test_id: o.status for o in result.outcomes}
            runs = [TestRun(patch_hash=h, test_kind=kind, test_id=t,
                            status=status.get(t, "error") if result.status == "ok" else "error",
                            output=None if result.status == "ok" else result.reason,
                            executor=type(ctx.executor).__name__) for kind, t in tests]
            await matrix.record(instance.instance_id, runs)
            cells.update({r.key: r for r in runs})
        return sum(cells[k].status == "passed" for k in keys[1:]) / len(tests)
