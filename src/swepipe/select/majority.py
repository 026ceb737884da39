"""Majority vote over normalized patches (Agentless' selection without test execution).

Candidates that normalize to the same diff (`patch/normalize.py`: comments, docstrings,
formatting removed) are one vote group; the largest group wins and its earliest sample is
submitted. Ties go to the group that appeared first in sample order, so with the greedy sample at
index 0 the greedy answer wins a tie. Empty or failed candidates never vote unless nothing else
exists (then an empty patch is submitted).
"""

from __future__ import annotations

from swepipe.hashing import ComponentConfig
from swepipe.protocols import StageContext
from swepipe.select.candidates import chosen, majority, nothing_usable, ordered, usable, vote_keyer
from swepipe.types import Instance, Patch, Selection


class MajorityVoteConfig(ComponentConfig):
    component: str = "majority_vote"
    code_version: str = "1"
    normalize: bool = True
    """Vote on the normalized diff; False votes on the exact diff text."""


class MajorityVoteSelector:
    Config = MajorityVoteConfig
    uses_model = False  # the model identity stays out of its config hash
    needs_repo = False  # runs without a checkout (`repos_dir` unset)

    def __init__(self, config: MajorityVoteConfig) -> None:
        self.config = config

    async def select(self, instance: Instance, patches: list[Patch],
                     ctx: StageContext) -> Selection:
        method = "majority_vote"
        pool = [p for p in ordered(patches) if usable(p)]
        if not pool:
            return nothing_usable(patches, method)

        key = vote_keyer(ctx.repo_dir) if self.config.normalize else (lambda p: p.diff.strip())
        winner, votes = majority(pool, key)
        scores = {p.sample_idx: 0.0 for p in patches} | votes
        return chosen(winner, method, scores,
                      f"{int(votes[winner.sample_idx])} of {len(pool)} usable candidates agree "
                      f"(sample {winner.sample_idx} is the earliest of them)")
