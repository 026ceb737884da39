"""Agentless repair: N independent samples of SEARCH/REPLACE edits from the localized code.

Per sample i: the prompt (`prompts/agentless_repair.txt`) shows the issue and the code of
localization sample `i % n_loc` (see `context.py`); sample 0 is greedy, the others use
`temperature`. The reply becomes a `Patch` with `patch.search_replace.patch_from_output` against
the checkout. Every sample is a row, whatever happened to it:

| status | when |
|---|---|
| `ok` | the edits applied and changed something |
| `empty` | no SEARCH/REPLACE block, edits that change nothing, or no code to show (no model call) |
| `unparseable` | a malformed block (missing markers, no `### path` line) |
| `apply_failed` | a block's file is missing, its SEARCH text is not found or ambiguous, the path is unsafe, or an edited Python file no longer parses |

`reason` says which block failed and why; `meta` holds the per-block results, the localization
sample, the files shown, the finish reason and the sequence id. `trajectory_id` is the id the call
was logged under in `sequences`.

With `reproduction` set, reproduction tests are generated too (blind to the patches, see
`reproduction.py`) and the chosen test is attached to every candidate (`Patch.test`,
`meta["reproduction"]`). A model error (after the client's retries) fails the stage: it is an
infrastructure outcome that a retry can fix, and the call cache makes that retry pay only for the
samples that failed.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Annotated

from pydantic import Field

from swepipe.errors import InputError
from swepipe.generate.context import RenderedContext, pointers_for_sample, render_context
from swepipe.generate.prompting import gather_samples, render, sample_params
from swepipe.generate.reproduction import ReproductionParams, generate_reproduction_tests
from swepipe.hashing import ComponentConfig, Runtime
from swepipe.patch.search_replace import patch_from_output
from swepipe.protocols import StageContext
from swepipe.types import CodePointer, Instance, Message, Patch


class AgentlessConfig(ComponentConfig):
    """Agentless' repair stage (see the module docstring)."""

    component: str = "agentless"
    code_version: str = "1"
    samples: int = Field(10, ge=1)
    """Independent repair samples per instance; sample 0 is greedy."""
    temperature: float = Field(0.8, ge=0)
    """Temperature of samples 1..N-1."""
    max_tokens: int | None = 4096
    """Completion limit per sample."""
    seed: int | None = None
    """When set, sample i sends seed + i (servers that honour seeds make samples reproducible)."""
    context_window: int = Field(10, ge=0)
    """Lines shown above and below each located span (Agentless: 10)."""
    line_numbers: bool = False
    """Prefix shown code lines with their numbers (models then tend to copy them into SEARCH)."""
    max_files: int | None = Field(5, ge=1)
    """At most this many files in the context (Agentless' top_n: 5); None = all."""
    check_syntax: bool = True
    """An edit that leaves a Python file unparseable is `apply_failed` (Agentless drops those)."""
    reproduction: ReproductionParams | None = None
    """Also generate reproduction tests and attach the chosen one to every candidate."""
    python: Annotated[str, Runtime()] = sys.executable
    """Interpreter that runs reproduction tests inside the executor."""
    test_timeout_s: Annotated[float, Runtime()] = 60.0
    """Wall-time limit of one reproduction test run."""
    max_concurrency: Annotated[int, Runtime()] = 8
    """Samples in flight at once."""


class AgentlessGenerator:
    Config = AgentlessConfig

    def __init__(self, config: AgentlessConfig) -> None:
        self.config = config

    def _context(self, pointers: list[CodePointer], repo: Path) -> RenderedContext:
        return render_context(pointers, repo, window=self.config.context_window,
                              line_numbers=self.config.line_numbers,
                              max_files=self.config.max_files)

    async def generate(self, instance: Instance, context: list[CodePointer],
                       ctx: StageContext) -> list[Patch]:
        if ctx.model is None or ctx.repo_dir is None:
            raise InputError("the agentless generator needs a model and a repository checkout")
        c, model, repo = self.config, ctx.model, Path(ctx.repo_dir)
        rendered: dict[int, RenderedContext] = {}  # per localization sample, rendered once

        async def one(i: int) -> Patch:
            loc, pointers = pointers_for_sample(context, i)
            if loc not in rendered:
                rendered[loc] = self._context(pointers, repo)
            shown = rendered[loc]
            meta = {"loc_sample": loc, "context_files": shown.files,
                    "missing_files": shown.missing}
            if not shown.text:
                return Patch(diff="", sample_idx=i, status="empty", meta=meta,
                             reason="no localized code to show (no pointers, or none of their "
                                    "files exist); the model was not called")
            prompt = render("agentless_repair", problem_statement=instance.problem_statement,
                            context=shown.text)
            params = sample_params(i, temperature=c.temperature, max_tokens=c.max_tokens,
                                   seed=c.seed)
            trajectory = uuid.uuid4().hex
            reply = await model.chat([Message(role="user", content=prompt)], params,
                                     sample_idx=i, trajectory_id=trajectory)
            patch = patch_from_output(reply.text, repo, sample_idx=i,
                                      check_syntax=c.check_syntax)
            finish = reply.choices[0].finish_reason if reply.choices else None
            meta.update(temperature=params.temperature, finish_reason=finish,
                        sequence_id=reply.sequence_id)
            if finish == "length" and patch.status != "ok":
                patch.reason = f"{patch.reason} (the reply hit max_tokens)"
            return patch.model_copy(update={"trajectory_id": trajectory,
                                            "meta": {**patch.meta, **meta}})

        patches = await gather_samples(range(c.samples), one, c.max_concurrency)
        if c.reproduction is not None:
            if ctx.executor is None:
                raise InputError("reproduction tests need an executor (ctx.executor)")
            result = await generate_reproduction_tests(
                instance, ctx, c.reproduction, python=c.python, timeout_s=c.test_timeout_s,
                max_concurrency=c.max_concurrency)
            chosen = result.chosen_test
            for patch in patches:
                patch.test = chosen.script if chosen else None
                patch.meta["reproduction"] = result.summary()
        return patches
