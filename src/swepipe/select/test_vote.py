"""CodeMonkeys' test vote: every generated test on every candidate; votes = tests passed.

The tests are the scripts the candidates carry (`Patch.test`, written by the CodeMonkeys editing
state machine) plus any in `ctx.extras["generated_tests"]` (a list of script texts, e.g. from a
separate testing stage), deduplicated by text. Each runs on every distinct usable candidate and on
the original code; outcomes come from / go to the test matrix (`test_matrix.py`), so a second
run of the same candidates executes nothing.

A candidate's votes are the number of tests that exit 0 on it (CodeMonkeys' "fixed" code).
Candidates are deduplicated by exact diff, ranked by votes (more first), then by changed lines
(fewer first), then by sample index; the top `top_k` go on to the selection state machine
(`codemonkeys.py`). As a selector of its own (`test_vote`), the top candidate is chosen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from pydantic import Field

from swepipe.hashing import ComponentConfig, Runtime
from swepipe.protocols import StageContext
from swepipe.select.candidates import (
    changed_lines, chosen, first_of_each, nothing_usable, ordered, usable,
)
from swepipe.select.script_runner import ScriptRunConfig, exit_code_status
from swepipe.select.test_matrix import TestRun, ensure_scripts, matrix_of, script_id
from swepipe.types import Instance, Patch, Selection, patch_hash


class TestVoteConfig(ComponentConfig):
    __test__ = False  # not a pytest class

    component: str = "test_vote"
    code_version: str = "1"
    top_k: int = 3
    """How many distinct candidates the ranking keeps (the state machine compares these)."""
    only_issue_tests: bool = False
    """Count only tests that do not pass on the original code (they reproduce the issue);
    CodeMonkeys counts every test."""
    scripts: Annotated[ScriptRunConfig, Runtime()] = Field(default_factory=ScriptRunConfig)
    """How test scripts are executed (interpreter, time limit, batching)."""


@dataclass
class Ranking:
    """The vote: distinct usable candidates best first, votes per sample, the matrix used."""

    ranked: list[Patch]
    votes: dict[int, float]
    tests: list[str]
    cells: dict[tuple[str, str, str], TestRun] = field(default_factory=dict)
    executed: int = 0

    def outcome(self, patch: Patch | None, test: str) -> TestRun | None:
        """The cell of `test` on `patch` (None = the original code)."""
        h = patch_hash(patch) if patch is not None else ""
        return self.cells.get((h, "generated", script_id(test)))


def collect_tests(patches: list[Patch], ctx: StageContext) -> list[str]:
    """Candidate tests then extra tests, each text once, in order."""
    texts = [p.test for p in ordered(patches) if p.test and p.test.strip()]
    texts += [t for t in ctx.extras.get("generated_tests", []) if t and t.strip()]
    return list(dict.fromkeys(texts))


async def rank_by_tests(instance: Instance, patches: list[Patch], ctx: StageContext,
                        config: TestVoteConfig) -> Ranking:
    """Run (or read) the matrix and rank the distinct usable candidates."""
    pool = [p for p in ordered(patches) if usable(p)]
    distinct = first_of_each(pool, lambda p: p.diff.strip())
    tests = collect_tests(patches, ctx)
    diffs = {"": ""} | {patch_hash(p): p.diff for p in distinct}
    fill = await ensure_scripts(matrix_of(ctx.extras), ctx.executor, ctx.repo_dir,
                                instance.instance_id, diffs, tests, "generated",
                                exit_code_status, config.scripts)
    ranking = Ranking([], {}, tests, fill.cells, fill.executed)
    counted = [t for t in tests if not config.only_issue_tests
               or getattr(ranking.outcome(None, t), "status", None) != "passed"]

    def votes(p: Patch) -> float:
        return float(sum(getattr(ranking.outcome(p, t), "status", None) == "passed"
                         for t in counted))

    ranking.votes = {p.sample_idx: votes(p) if usable(p) else 0.0 for p in patches}
    ranked = sorted(distinct, key=lambda p: (-ranking.votes[p.sample_idx],
                                             changed_lines(p.diff), p.sample_idx))
    ranking.ranked = ranked[:max(config.top_k, 1)]
    return ranking


def describe(ranking: Ranking) -> str:
    top = ", ".join(f"sample {p.sample_idx}: {int(ranking.votes[p.sample_idx])}"
                    for p in ranking.ranked)
    return (f"{len(ranking.tests)} generated tests ({ranking.executed} runs executed, the rest "
            f"from the test matrix); votes of the top candidates: {top}")


class TestVoteSelector:
    """The top-voted candidate, without a model (CodeMonkeys' "test-vote majority")."""

    __test__ = False
    Config = TestVoteConfig
    uses_model = False  # the model identity stays out of its config hash

    def __init__(self, config: TestVoteConfig) -> None:
        self.config = config

    async def select(self, instance: Instance, patches: list[Patch],
                     ctx: StageContext) -> Selection:
        if not any(usable(p) for p in patches):
            return nothing_usable(patches, "test_vote")
        ranking = await rank_by_tests(instance, patches, ctx, self.config)
        return chosen(ranking.ranked[0], "test_vote", ranking.votes, describe(ranking))
