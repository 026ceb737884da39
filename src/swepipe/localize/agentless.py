"""Agentless hierarchical LLM localization: repository tree -> files -> elements -> edit lines.

Steps (prompts in `prompts/agentless_*_v<prompt_version>.txt`):
1. optional irrelevant-folder pre-filter: the model names folders to ignore; their files leave
   the tree shown in step 2 (Agentless' `file_level_irrelevant`);
2. suspicious files: the tree as indented text -> at most `max_files` ranked paths; paths not
   in the repository are dropped and logged (or the files come from `files_from`, another
   localizer, e.g. `combine` of this step and retrieval, as Agentless v1.5 runs it);
3. related elements: skeletons of the first `top_n` files -> classes, functions, variables;
4. edit locations: the numbered code around those elements -> lines, `num_samples` samples
   (sample 0 greedy, the others at `temperature`), each pointer tagged with its `sample_idx`.

A step whose reply gives nothing usable is asked again up to `max_retries` times (at
`retry_temperature`, with a new seed). Every request carries `seed = sample * (max_retries + 1)
+ attempt`, so each sample and retry is a distinct, reproducible, separately cached call.

Output (`stop_after`): `kept` -> every file the tree shows after step 1 (what Agentless v1.5
restricts embedding retrieval to: a retrieval localizer's `restrict_to`); `files` -> file
pointers; `related` -> element spans; `edit` (default) -> the edit locations of every sample,
widened by `context_lines` and merged per sample. Locations the model placed outside a file, or
on a symbol the file does not define, are kept with `resolved=False` and null lines when
`keep_unresolved` (the mistake stays visible in the store); locations in files the model was not
shown are dropped. What a step could not use is logged on
`ctx.log` with the instance id. When the model names no element at all, the files are the output
(whole-file pointers), so a generator still gets context and the log says why.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from swepipe.errors import InputError
from swepipe.localize.agentless_replies import Parsed, parse_file_list, parse_location_list
from swepipe.localize.agentless_text import drop_folders, numbered_excerpt, render_structure
from swepipe.localize.nested import ComposedConfig, NestedLocalizer, build_localizer, ranked_files
from swepipe.localize.prompting import check_prompts, code_blocks, prompt
from swepipe.localize.retrieval import CODE_LANGUAGES
from swepipe.protocols import StageContext
from swepipe.repos.files import FileFilter, list_files
from swepipe.repos.languages import language_of
from swepipe.repos.locations import merge_spans
from swepipe.repos.skeleton import skeleton
from swepipe.types import CodePointer, Instance, Message, SamplingParams

PROMPTS = ("agentless_irrelevant", "agentless_files", "agentless_related", "agentless_edit")


class AgentlessConfig(ComposedConfig):
    """Agentless hierarchical localization (see the module docstring)."""

    component: str = "agentless"
    code_version: str = "1"
    prompt_version: str = "1"
    """Selects `prompts/agentless_<step>_v<prompt_version>.txt`."""
    files: FileFilter = Field(default_factory=lambda: FileFilter(languages=CODE_LANGUAGES))
    """Which files the tree shows: source files of the supported languages, tests excluded."""
    filter_irrelevant: bool = False
    """Ask for irrelevant folders first and leave them out of the tree."""
    files_from: NestedLocalizer | None = None
    """Take the suspicious files from this localizer instead of asking the model (step 2)."""
    max_files: int = Field(default=5, ge=1)
    """At most this many suspicious files are asked for and kept."""
    top_n: int = Field(default=3, ge=1)
    """How many of the suspicious files go through steps 3 and 4."""
    stop_after: Literal["kept", "files", "related", "edit"] = "edit"
    """Which step's result is the output (`kept`: the files left after step 1)."""
    num_samples: int = Field(default=4, ge=1)
    """Edit-location samples; sample 0 is greedy."""
    temperature: float = Field(default=0.8, ge=0)
    """Temperature of edit-location samples 1..n-1."""
    retry_temperature: float = Field(default=0.8, ge=0)
    """Temperature of a retry after an unusable reply."""
    max_retries: int = Field(default=2, ge=0)
    """Retries of a step (or sample) whose reply gave nothing usable."""
    max_tokens: int = Field(default=1024, gt=0)
    """Completion limit per call (Agentless used 300; reasoning models need more)."""
    max_prompt_tokens: int = Field(default=128_000, gt=0)
    """Files are dropped from the end of a step-3/4 prompt until it fits (Agentless: 128k)."""
    context_window: int = Field(default=10, ge=0)
    """Lines shown around each related element in the edit-location step."""
    context_lines: int = Field(default=10, ge=0)
    """Lines added on each side of every output edit location (Agentless' repair window)."""
    merge: bool = True
    """Merge overlapping edit locations of a sample into one span."""
    keep_unresolved: bool = True
    """Keep locations that map to no lines (outside the file, unknown symbol) as resolved=False."""

    @model_validator(mode="after")
    def _prompts_exist(self) -> "AgentlessConfig":
        check_prompts(PROMPTS, self.prompt_version)
        return self


class AgentlessLocalizer:
    """Implements `Localizer` with Agentless' three LLM steps."""

    Config = AgentlessConfig

    def __init__(self, config: AgentlessConfig | None = None) -> None:
        self.config = config or AgentlessConfig()
        self._files_from = build_localizer(self.config.files_from) \
            if self.config.files_from is not None else None

    async def locate(self, instance: Instance, ctx: StageContext) -> list[CodePointer]:
        if ctx.repo_dir is None:
            raise InputError("agentless localization needs the repository: set repos_dir",
                             field="repos_dir")
        if ctx.model is None:
            raise InputError("agentless localization needs a model", field="model")
        run = _Run(self, instance, ctx, Path(ctx.repo_dir))
        try:
            return await run.pointers()
        finally:
            run.report()


class _Run:
    """One `locate` call: the instance, its checkout, and what was dropped on the way."""

    def __init__(self, owner: AgentlessLocalizer, instance: Instance, ctx: StageContext,
                 repo: Path) -> None:
        self.owner, self.cfg = owner, owner.config
        self.instance, self.ctx, self.repo = instance, ctx, repo
        self.problems: list[str] = []
        self._texts: dict[str, str] = {}

    def report(self) -> None:
        for problem in self.problems:
            self.ctx.log.warning("agentless %s: %s", self.instance.instance_id, problem)

    def text(self, path: str) -> str:
        if path not in self._texts:
            self._texts[path] = (self.repo / path).read_text(encoding="utf-8", errors="replace")
        return self._texts[path]

    async def pointers(self) -> list[CodePointer]:
        if self.cfg.stop_after == "kept":
            return [CodePointer(file_path=f, kind="file", rank=r)
                    for r, f in enumerate(await self.kept_files())]
        files = await self.suspicious_files()
        as_files = [CodePointer(file_path=f, kind="file", rank=r) for r, f in enumerate(files)]
        if self.cfg.stop_after == "files" or not files:
            return as_files
        related = await self.related(files[: self.cfg.top_n])
        if not related:
            self.problems.append("no related elements found; the output is the files")
            return as_files
        if self.cfg.stop_after == "related":
            return related
        return await self.edit_locations(related)

    async def ask(self, step: str, text: str, parse: Callable[[str], Parsed], *,
                  sample_idx: int = 0, temperature: float = 0.0) -> Parsed:
        """One step (or sample) with Agentless-style retries; the last reply's result is kept."""
        trajectory = uuid.uuid4().hex
        parsed = Parsed()
        for attempt in range(self.cfg.max_retries + 1):
            params = SamplingParams(
                temperature=temperature if attempt == 0 else self.cfg.retry_temperature,
                max_tokens=self.cfg.max_tokens,
                seed=sample_idx * (self.cfg.max_retries + 1) + attempt)
            reply = await self.ctx.model.chat(  # type: ignore[union-attr]
                [Message(role="user", content=text)], params, sample_idx=sample_idx,
                trajectory_id=trajectory, turn=attempt)
            parsed = parse(reply.text)
            label = f"{step} (sample {sample_idx}, attempt {attempt})"
            self.problems.extend(f"{label}: {p}" for p in parsed.problems)
            if parsed.usable:
                break
        return parsed

    async def suspicious_files(self) -> list[str]:
        if self.owner._files_from is not None:
            found = await self.owner._files_from.locate(self.instance, self.ctx)
            files = [f for f in ranked_files(found) if (self.repo / f).is_file()]
            return files[: self.cfg.max_files]
        listing = await self.kept_files()
        if not listing:
            return []
        text = prompt("agentless_files", self.cfg.prompt_version,
                      problem_statement=self.instance.problem_statement,
                      structure=render_structure(listing), max_files=str(self.cfg.max_files))
        parsed = await self.ask("files", text,
                                lambda r: parse_file_list(r, listing, self.cfg.max_files))
        return parsed.files

    async def kept_files(self) -> list[str]:
        """The files of the tree: the file filter's, less the irrelevant folders (step 1)."""
        listing = await asyncio.to_thread(list_files, self.repo, self.cfg.files)
        if not listing:
            self.problems.append("the file filter leaves no files in the repository")
            return []
        if self.cfg.filter_irrelevant:
            listing = await self.drop_irrelevant(listing)
        return listing

    async def drop_irrelevant(self, listing: list[str]) -> list[str]:
        text = prompt("agentless_irrelevant", self.cfg.prompt_version,
                      problem_statement=self.instance.problem_statement,
                      structure=render_structure(listing))
        reply = await self.ctx.model.chat(  # type: ignore[union-attr]
            [Message(role="user", content=text)],
            SamplingParams(temperature=0.0, max_tokens=self.cfg.max_tokens, seed=0))
        kept, used, unknown = drop_folders(listing, code_blocks(reply.text).splitlines())
        self.problems.extend(f"irrelevant folder not in the repository: {f!r}" for f in unknown)
        if not kept:  # the model called everything irrelevant; Agentless would show nothing
            self.problems.append("every folder was called irrelevant; the filter is ignored")
            return listing
        self.ctx.log.info("agentless %s: %d files in %d irrelevant folders left out",
                          self.instance.instance_id, len(listing) - len(kept), len(used))
        return kept

    async def fit(self, name: str, blocks: list[tuple[str, str]]) -> tuple[str, list[str]]:
        """The step's prompt with as many file blocks (from the front) as fit the budget."""
        model = self.ctx.model
        assert model is not None
        blocks = list(blocks)
        while blocks:
            text = prompt(name, self.cfg.prompt_version,
                          problem_statement=self.instance.problem_statement,
                          file_contents="\n".join(b for _, b in blocks))
            if await model.count_tokens(text) <= self.cfg.max_prompt_tokens:
                return text, [f for f, _ in blocks]
            dropped, _ = blocks.pop()
            self.problems.append(f"{name}: {dropped} left out to fit "
                                 f"{self.cfg.max_prompt_tokens} prompt tokens")
        return "", []

    async def related(self, files: list[str]) -> list[CodePointer]:
        blocks = []
        for path in files:
            language = language_of(path)
            body = skeleton(self.text(path), language) if language else self.text(path)
            fence = f"```{language or ''}"
            blocks.append((path, f"### File: {path} ###\n{fence}\n{body.rstrip()}\n```\n"))
        text, shown = await self.fit("agentless_related", blocks)
        if not shown:
            return []
        sources = {f: self.text(f) for f in shown}
        parsed = await self.ask("related", text, lambda r: parse_location_list(r, sources))
        return [p for p in parsed.pointers if p.resolved]

    async def edit_locations(self, related: list[CodePointer]) -> list[CodePointer]:
        window = self.cfg.context_window
        blocks = []
        for path in dict.fromkeys(p.file_path for p in related):
            spans = [(p.start_line - window, p.end_line + window)  # type: ignore[operator]
                     for p in related if p.file_path == path]
            lines = self.text(path).splitlines()
            blocks.append((path, f"### {path}\n{numbered_excerpt(lines, spans)}\n"))
        text, shown = await self.fit("agentless_edit", blocks)
        if not shown:
            return related
        sources = {f: self.text(f) for f in shown}
        samples = await asyncio.gather(*(
            self.ask("edit", text, lambda r: parse_location_list(
                r, sources, context=self.cfg.context_lines), sample_idx=i,
                temperature=0.0 if i == 0 else self.cfg.temperature)
            for i in range(self.cfg.num_samples)))
        out: list[CodePointer] = []
        for i, parsed in enumerate(samples):
            good = [p for p in parsed.pointers if p.resolved]
            if self.cfg.merge:  # merged spans keep their best member's rank: the model's order
                good = sorted(merge_spans(good), key=lambda p: p.rank)
            bad = [p for p in parsed.pointers if not p.resolved and self.cfg.keep_unresolved]
            kept = good + bad
            out += [p.model_copy(update={"sample_idx": i, "rank": r})
                    for r, p in enumerate(kept)]
        return out
