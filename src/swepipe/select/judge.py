"""Single-turn LLM judge: the cheaper cousin of the CodeMonkeys state machine.

The usable candidates are grouped by normalized diff (as `majority_vote` does) and the largest
groups, up to `max_candidates`, are shown once with the issue and the original text of the files
they touch; one model call names `<choice>N</choice>`. No tests run. When there is one group, no
model, a failed call or an unparseable reply, the majority-vote winner is chosen and the rationale
says why. `scores` are the vote counts, so the judge's agreement with the vote can be queried.
"""

from __future__ import annotations

import uuid
from collections import Counter

from pydantic import Field

from swepipe.errors import ModelError
from swepipe.hashing import ComponentConfig
from swepipe.protocols import StageContext
from swepipe.select.candidates import (
    chosen, first_of_each, majority, nothing_usable, ordered, usable, vote_keyer,
)
from swepipe.select.prompts import (
    format_candidates, format_files, parse_choice, prompt, touched_files,
)
from swepipe.types import Instance, Message, Patch, SamplingParams, Selection

METHOD = "llm_judge"


class LLMJudgeConfig(ComponentConfig):
    component: str = "llm_judge"
    code_version: str = "1"
    prompt_version: str = "1"
    """Which `prompts/judge_v<N>.txt` to use."""
    max_candidates: int = 5
    """Largest vote groups shown to the judge."""
    max_file_chars: int = 60_000
    """Budget for the touched files' text in the prompt."""
    show_files: bool = True
    """Include the original text of the touched files."""
    sampling: SamplingParams = Field(default_factory=lambda: SamplingParams(max_tokens=2048))
    """Sampling parameters of the one call."""


class LLMJudgeSelector:
    Config = LLMJudgeConfig

    def __init__(self, config: LLMJudgeConfig) -> None:
        self.config = config

    async def select(self, instance: Instance, patches: list[Patch],
                     ctx: StageContext) -> Selection:
        pool = [p for p in ordered(patches) if usable(p)]
        if not pool:
            return nothing_usable(patches, METHOD)
        key = vote_keyer(ctx.repo_dir)
        keys = {p.sample_idx: key(p) for p in pool}
        winner, votes = majority(pool, lambda p: keys[p.sample_idx])
        scores = {p.sample_idx: 0.0 for p in patches} | votes
        counts = Counter(keys.values())
        firsts = first_of_each(pool, lambda p: keys[p.sample_idx])
        shown = sorted(firsts, key=lambda p: -counts[keys[p.sample_idx]])
        shown = shown[:max(self.config.max_candidates, 1)]
        if len(shown) == 1 or ctx.model is None:
            why = "one distinct candidate" if len(shown) == 1 else "no model"
            return chosen(winner, METHOD, scores, f"{why}: majority-vote winner")
        cfg = self.config
        files = (format_files(ctx.repo_dir, touched_files(shown), cfg.max_file_chars)
                 if cfg.show_files else "(not shown)")
        text = prompt("judge", cfg.prompt_version, issue=instance.problem_statement,
                      files=files, candidates=format_candidates(shown))
        try:
            reply = (await ctx.model.chat([Message(role="user", content=text)], cfg.sampling,
                                          trajectory_id=uuid.uuid4().hex)).text
        except ModelError as exc:
            return chosen(winner, METHOD, scores,
                          f"fallback to the majority-vote winner: model call failed ({exc})")
        pick = parse_choice(reply, len(shown))
        if pick is None:
            return chosen(winner, METHOD, scores,
                          "fallback to the majority-vote winner: unparseable judge reply "
                          f"{reply[-200:]!r}")
        return chosen(shown[pick], METHOD, scores,
                      f"the judge chose candidate {pick + 1} of {len(shown)} shown")
