"""CodeMonkeys context: a relevance judgement per file, sampled rankings, whole files packed.

1. Relevance scan: one call per candidate file (every file `files` keeps, or the retrieval
   top-K in `codemonkeys_retrieval_first`). The prompt holds only the issue, the path and the
   file, at temperature 0 and sample 0, and nothing of the rest of the config, so identical
   requests are answered from the call cache: a judgement is reused per (file content and path,
   issue, model, prompt version, relevance sampling parameters) by any config and any re-run. The
   issue comes first so a serving engine's prefix cache shares it across an instance's files.
   Calls go out concurrently, at most `max_concurrent` at a time (the client limits further).
2. Ranking: the relevant files' summaries and token counts, ranked `ranking_samples` times at
   `ranking_temperature` (sample j uses seed j), merged by average relative rank
   (`codemonkeys_replies.merge_rankings`). With one relevant file there is nothing to rank.
3. Packing: whole files in rank order while the total stays within `context_budget` tokens
   (`ctx.model.count_tokens`). CodeMonkeys stops at the first file that does not fit; with
   `skip_oversized` later, smaller files may still fill the budget.

Output: one `file` pointer per packed file, in rank order, `score = 1 - mean relative rank`,
`tokens` = its size. Replies without a verdict (`parse_error`) count as not relevant and are
logged; a model call that fails for good fails the instance (the stage records it, and a retry
pays only for the calls that did not succeed, through the call cache).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator

from swepipe.errors import InputError
from swepipe.hashing import Runtime
from swepipe.localize.codemonkeys_replies import (RelevanceDecision, merge_rankings,
                                                  parse_ranking, parse_relevance)
from swepipe.localize.nested import ComposedConfig
from swepipe.localize.prompting import check_prompts, load_prompt, prompt
from swepipe.localize.retrieval import CODE_LANGUAGES
from swepipe.protocols import Model, StageContext
from swepipe.repos.files import FileFilter, list_files
from swepipe.types import CodePointer, Instance, Message, SamplingParams

PROMPTS = ("codemonkeys_relevance_system", "codemonkeys_relevance", "codemonkeys_ranking")


class CodeMonkeysConfig(ComposedConfig):
    """CodeMonkeys relevance scan, ranking and packing (see the module docstring)."""

    component: str = "codemonkeys"
    code_version: str = "1"
    prompt_version: str = "1"
    """Selects `prompts/codemonkeys_<step>_v<prompt_version>.txt`."""
    files: FileFilter = Field(default_factory=lambda: FileFilter(
        languages=CODE_LANGUAGES, max_bytes=400_000))
    """Files scanned: source files, tests excluded, at most ~100k tokens each."""
    relevance_max_tokens: int = Field(default=1024, gt=0)
    """Completion limit of a relevance judgement (part of the cached request)."""
    ranking_samples: int = Field(default=3, ge=1)
    """How many rankings are sampled and merged."""
    ranking_temperature: float = Field(default=0.8, ge=0)
    """Temperature of the ranking samples."""
    ranking_max_tokens: int = Field(default=4096, gt=0)
    """Completion limit of a ranking."""
    context_budget: int = Field(default=128_000, gt=0)
    """Token budget of the packed files (CodeMonkeys: 128k)."""
    skip_oversized: bool = False
    """Skip a file that does not fit and keep packing smaller ones (CodeMonkeys stops)."""
    max_concurrent: Annotated[int, Runtime()] = 64
    """Relevance calls in flight at once for one instance."""

    @model_validator(mode="after")
    def _prompts_exist(self) -> "CodeMonkeysConfig":
        check_prompts(PROMPTS, self.prompt_version)
        return self


def _read_all(repo: Path, files: list[str]) -> dict[str, str]:
    return {f: (repo / f).read_text(encoding="utf-8", errors="replace") for f in files}


class CodeMonkeysLocalizer:
    """Implements `Localizer` with CodeMonkeys' relevance scan, ranking and packing."""

    Config = CodeMonkeysConfig

    def __init__(self, config: CodeMonkeysConfig | None = None) -> None:
        self.config = config or self.Config()

    async def candidates(self, instance: Instance, ctx: StageContext, repo: Path) -> list[str]:
        """The files to judge: every file the filter keeps."""
        return await asyncio.to_thread(list_files, repo, self.config.files)

    async def locate(self, instance: Instance, ctx: StageContext) -> list[CodePointer]:
        if ctx.repo_dir is None:
            raise InputError("codemonkeys localization needs the repository: set repos_dir",
                             field="repos_dir")
        if ctx.model is None:
            raise InputError("codemonkeys localization needs a model", field="model")
        repo, model = Path(ctx.repo_dir), ctx.model
        files = await self.candidates(instance, ctx, repo)
        texts = await asyncio.to_thread(_read_all, repo, files)
        decisions = await self.scan(instance, model, texts)
        relevant = [d for d in decisions if d.status == "relevant"]
        failed = [d.path for d in decisions if d.status == "parse_error"]
        if failed:
            ctx.log.warning("codemonkeys %s: %d relevance replies without a verdict, counted "
                            "not relevant: %s", instance.instance_id, len(failed),
                            ", ".join(failed[:20]))
        tokens = dict(zip([d.path for d in relevant], await asyncio.gather(
            *(model.count_tokens(texts[d.path]) for d in relevant))))
        ranked = await self.rank(instance, ctx, relevant, tokens)
        ctx.log.info("codemonkeys %s: %d files scanned, %d relevant", instance.instance_id,
                     len(files), len(relevant))
        return self.pack(ranked, tokens)

    async def scan(self, instance: Instance, model: Model,
                   texts: dict[str, str]) -> list[RelevanceDecision]:
        version = self.config.prompt_version
        system = Message(role="system", content=load_prompt("codemonkeys_relevance_system",
                                                            version))
        params = SamplingParams(temperature=0.0, max_tokens=self.config.relevance_max_tokens)
        gate = asyncio.Semaphore(self.config.max_concurrent)

        async def judge(path: str) -> RelevanceDecision:
            if not texts[path].strip():  # nothing to edit in an empty file
                return RelevanceDecision(path, "not_relevant", None, "")
            user = prompt("codemonkeys_relevance", version, path=path, content=texts[path],
                          problem_statement=instance.problem_statement)
            async with gate:
                reply = await model.chat([system, Message(role="user", content=user)], params)
            return parse_relevance(path, reply.text)

        return list(await asyncio.gather(*(judge(p) for p in texts)))

    async def rank(self, instance: Instance, ctx: StageContext,
                   relevant: list[RelevanceDecision],
                   tokens: dict[str, int]) -> list[tuple[str, float]]:
        paths = [d.path for d in relevant]
        if len(paths) <= 1:
            return [(p, 0.0) for p in paths]
        listing = "\n\n".join(f'<file path="{d.path}" tokens="{tokens[d.path]}">\n'
                              f"{d.summary or ''}\n</file>" for d in relevant)
        text = prompt("codemonkeys_ranking", self.config.prompt_version, files=listing,
                      problem_statement=instance.problem_statement,
                      budget=str(self.config.context_budget))
        assert ctx.model is not None

        async def sample(j: int) -> list[str]:
            params = SamplingParams(temperature=self.config.ranking_temperature,
                                    max_tokens=self.config.ranking_max_tokens, seed=j)
            reply = await ctx.model.chat(  # type: ignore[union-attr]
                [Message(role="user", content=text)], params, sample_idx=j)
            ranking, problems = parse_ranking(reply.text, paths)
            for problem in problems:
                ctx.log.warning("codemonkeys %s: ranking %d: %s", instance.instance_id, j,
                                problem)
            return ranking

        rankings = await asyncio.gather(*(sample(j)
                                          for j in range(self.config.ranking_samples)))
        return merge_rankings(rankings, paths)

    def pack(self, ranked: list[tuple[str, float]], tokens: dict[str, int]) -> list[CodePointer]:
        out: list[CodePointer] = []
        used = 0
        for path, mean_rank in ranked:
            if used + tokens[path] > self.config.context_budget:
                if self.config.skip_oversized:
                    continue
                break
            used += tokens[path]
            out.append(CodePointer(file_path=path, kind="file", rank=len(out),
                                   score=1.0 - mean_rank, tokens=tokens[path]))
        return out
