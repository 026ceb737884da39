"""The cheaper CodeMonkeys: retrieval first, LLM relevance only on the top-K files.

The seed's answer to the rate-limit bottleneck of the full relevance scan: the retrieval
localizer (a nested config, `retrieval`; by default its measured file ranking,
docs/localization.md: chunk evidence summed with decay, non-library paths down-weighted, the
issue title weighted up, on the repository's shared index) ranks the repository's files, and
only its first `top_k` go through the relevance scan; ranking and packing are CodeMonkeys' own.
A scan of K files instead of thousands cuts the LLM tokens per instance by about files / K (see
`benchmarks/relevance_scan.py`); what it can lose is a gold file that retrieval ranks below K.

Judgements are the same requests as the full scan's (same prompt, same parameters), so a file
already judged by a full scan of the same instance, model and prompt version is free here.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from swepipe.localize.codemonkeys import CodeMonkeysConfig, CodeMonkeysLocalizer
from swepipe.localize.nested import NestedLocalizer, build_localizer, ranked_files
from swepipe.localize.retrieval import RetrievalLocalizerConfig
from swepipe.protocols import StageContext
from swepipe.types import Instance


class RetrievalFirstConfig(CodeMonkeysConfig):
    """CodeMonkeys with the relevance scan limited to retrieval's top-K files."""

    component: str = "codemonkeys_retrieval_first"
    code_version: str = "2"
    top_k: int = Field(default=50, ge=1)
    """How many of retrieval's best files are judged by the model."""
    retrieval: NestedLocalizer = Field(default_factory=RetrievalLocalizerConfig)
    """The localizer whose file ranking picks the candidates (any localizer works); by default
    the retrieval localizer returning `top_k` files and no chunks."""

    @model_validator(mode="before")
    @classmethod
    def _default_retrieval(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("retrieval") is None:
            top_k = data.get("top_k", cls.model_fields["top_k"].default)
            data = {**data, "retrieval": {"component": "retrieval", "top_files": top_k,
                                          "top_chunks": 0}}
        return data

    @model_validator(mode="after")
    def _enough_files(self) -> "RetrievalFirstConfig":
        top_files = getattr(self.retrieval, "top_files", None)
        if top_files is not None and top_files < self.top_k:
            raise ValueError(f"retrieval.top_files ({top_files}) is below top_k ({self.top_k}); "
                             "raise it so retrieval returns K files")
        return self


class RetrievalFirstLocalizer(CodeMonkeysLocalizer):
    """`CodeMonkeysLocalizer` whose candidates come from a retrieval localizer."""

    Config = RetrievalFirstConfig

    def __init__(self, config: RetrievalFirstConfig | None = None) -> None:
        super().__init__(config)
        self.config: RetrievalFirstConfig
        self.retrieval = build_localizer(self.config.retrieval)
        """The candidate source (public: a benchmark warms its index before timing the scan)."""

    async def candidates(self, instance: Instance, ctx: StageContext, repo: Path) -> list[str]:
        found = await self.retrieval.locate(instance, ctx)
        files = [f for f in ranked_files(found) if (repo / f).is_file()]
        ctx.log.info("codemonkeys_retrieval_first %s: judging %d of %d retrieved files",
                     instance.instance_id, min(len(files), self.config.top_k), len(files))
        return files[: self.config.top_k]
