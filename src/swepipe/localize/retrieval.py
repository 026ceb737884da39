"""Embedding retrieval localization (Agentless' retrieval stage).

The issue text is embedded and searched against a faiss index of the repository's chunks
(`repos.index`, built once per repo, commit, embedder and chunking, then reused). Chunk hits are
aggregated per file by their best score. Output, in this order:
- `top_files` pointers of kind `file` (rank 0 = best file, score = its best chunk's score);
- `top_chunks` pointers of kind `class`, `function` or `lines` with their spans, symbol, score,
  estimated tokens, ranked 0.. among chunks.
Ranks restart at 0 for chunks; consumers tell the two lists apart by `kind == "file"`.

`restrict_to` (a nested localizer) limits the search to the files it returns; Agentless v1.5
searches only the files its irrelevant-folder filter keeps, which is the nested `agentless`
localizer with `filter_irrelevant = true` and `stop_after = "kept"` (its model call is the same
request as the one the Agentless file step makes, so the call cache answers it once).

Which embedder: `embedder="local"` (default) uses the built-in `HashingEmbedder`, which needs no
download. Any other value names a served embedding model that the runner passes as
`ctx.embedder`; its `name` must equal the configured value, so a config hash never hides which
model produced the results.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import Annotated

import numpy as np
from pydantic import Field

from swepipe.errors import InputError
from swepipe.hashing import AddedLater, Runtime
from swepipe.localize.nested import ComposedConfig, NestedLocalizer, build_localizer, ranked_files
from swepipe.protocols import Embedder, StageContext
from swepipe.repos.chunks import ChunkConfig
from swepipe.repos.embedders import HashingEmbedder, HashingEmbedderConfig
from swepipe.repos.files import FileFilter
from swepipe.repos.index import KINDS, ChunkIndex, open_or_build
from swepipe.types import CodePointer, Instance

CODE_LANGUAGES = ("python", "javascript", "typescript", "java", "go")


def default_index_root() -> Path:
    """`$SWEPIPE_CACHE_DIR/indexes`, else `~/.cache/swepipe/indexes`."""
    base = os.environ.get("SWEPIPE_CACHE_DIR") or Path.home() / ".cache" / "swepipe"
    return Path(base) / "indexes"


class RetrievalLocalizerConfig(ComposedConfig):
    """Embedding retrieval over AST chunks (see the module docstring)."""

    component: str = "retrieval"
    code_version: str = "1"

    embedder: str = "local"
    """`local` for the built-in hashing embedder, else the served model's name (ctx.embedder)."""
    local_embedder: HashingEmbedderConfig = Field(default_factory=HashingEmbedderConfig)
    """Parameters of the local embedder (used when `embedder == "local"`)."""
    files: FileFilter = Field(default_factory=lambda: FileFilter(languages=CODE_LANGUAGES))
    """Which files are indexed: source files of the supported languages, tests excluded."""
    chunking: ChunkConfig = Field(default_factory=ChunkConfig)
    """How files are cut into chunks (token limit)."""
    top_files: int = Field(default=10, ge=0)
    """How many ranked file pointers to return."""
    top_chunks: int = Field(default=20, ge=0)
    """How many ranked chunk pointers to return."""
    search_k: int = Field(default=300, ge=1)
    """Chunks fetched from the index before aggregating per file."""
    rerank: bool = True
    """Local embedder only: re-score the `search_k` candidates by exact BM25 over their
    sparse features (the projection's collision noise otherwise decides close calls)."""
    query_max_chars: int = Field(default=30_000, gt=0)
    """The issue text is cut to this length (served embedders have input limits)."""
    include_hints: bool = False
    """Append `hints_text` to the query (Agentless and CodeMonkeys do not show hints)."""
    restrict_to: Annotated[NestedLocalizer | None, AddedLater()] = None
    """Search only the files this localizer returns (None: the whole index)."""
    index_dir: Annotated[Path | None, Runtime()] = None
    """Where indexes are persisted; default `$SWEPIPE_CACHE_DIR/indexes` or ~/.cache/swepipe."""
    embed_batch_size: Annotated[int, Runtime()] = 256
    """Texts per request to a served embedder."""


def rank_files(index: ChunkIndex, ids: np.ndarray, scores: np.ndarray) -> list[tuple[str, float]]:
    """Files of the hit chunks, best first, each scored by its best chunk (ties by path)."""
    if len(ids) == 0:
        return []
    file_ids = index.file_ids[ids]
    best = np.full(len(index.files), -np.inf, dtype=np.float64)
    np.maximum.at(best, file_ids, scores.astype(np.float64))
    hit = np.flatnonzero(np.isfinite(best))
    order = hit[np.lexsort((hit, -best[hit]))]
    return [(index.files[i], float(best[i])) for i in order]


class RetrievalLocalizer:
    """Implements `Localizer` with embedding retrieval."""

    Config = RetrievalLocalizerConfig

    def __init__(self, config: RetrievalLocalizerConfig | None = None) -> None:
        self.config = config or RetrievalLocalizerConfig()
        self._restrict = build_localizer(self.config.restrict_to) \
            if self.config.restrict_to is not None else None
        # the model identity enters the config hash only when a nested localizer asks a model
        self.uses_model = self._restrict is not None
        self._local = HashingEmbedder(self.config.local_embedder)
        self._opened: OrderedDict[tuple[str, str], ChunkIndex] = OrderedDict()

    def embedder_for(self, ctx: StageContext) -> Embedder:
        if self.config.embedder == "local":
            return self._local
        if ctx.embedder is None:
            raise InputError(f"embedder {self.config.embedder!r} is configured but the runner "
                             "passed no ctx.embedder", field="embedder")
        if ctx.embedder.name != self.config.embedder:
            raise InputError(f"ctx.embedder is {ctx.embedder.name!r}, the config says "
                             f"{self.config.embedder!r}", field="embedder")
        return ctx.embedder

    async def index_for(self, instance: Instance, ctx: StageContext) -> ChunkIndex:
        """The (cached, persisted) index of the instance's repository at its base commit."""
        if ctx.repo_dir is None:
            raise InputError("retrieval localization needs the repository: set repos_dir",
                             field="repos_dir")
        key = (instance.repo, instance.base_commit)
        if key in self._opened:
            self._opened.move_to_end(key)
            return self._opened[key]
        cfg = self.config
        index = await open_or_build(
            cfg.index_dir or default_index_root(), instance.repo, instance.base_commit,
            Path(ctx.repo_dir), self.embedder_for(ctx), chunking=cfg.chunking, files=cfg.files,
            batch_size=cfg.embed_batch_size)
        self._opened[key] = index
        if len(self._opened) > 4:  # an index of a big repository is ~100 MB in memory
            self._opened.popitem(last=False)
        return index

    def query_text(self, instance: Instance) -> str:
        text = instance.problem_statement
        if self.config.include_hints and instance.hints_text:
            text = f"{text}\n\n{instance.hints_text}"
        return text[: self.config.query_max_chars]

    async def locate(self, instance: Instance, ctx: StageContext) -> list[CodePointer]:
        index = await self.index_for(instance, ctx)
        files = None
        if self._restrict is not None:
            files = ranked_files(await self._restrict.locate(instance, ctx))
            ctx.log.info("retrieval %s: searching the %d files of %s", instance.instance_id,
                         len(files), self.config.restrict_to.component)
        ids, scores = await index.query(self.query_text(instance), self.config.search_k,
                                        rerank=self.config.rerank, files=files)
        out = [CodePointer(file_path=path, kind="file", rank=rank, score=score)
               for rank, (path, score) in enumerate(
                   rank_files(index, ids, scores)[: self.config.top_files])]
        for rank, (i, score) in enumerate(zip(ids[: self.config.top_chunks],
                                              scores[: self.config.top_chunks])):
            out.append(CodePointer(
                file_path=index.files[index.file_ids[i]], kind=KINDS[index.kinds[i]],
                start_line=int(index.starts[i]), end_line=int(index.ends[i]),
                symbol=index.symbols[i], rank=rank, score=float(score),
                tokens=int(index.tokens[i])))
        ctx.log.debug("retrieval %s: %d chunks searched, %d pointers", instance.instance_id,
                      index.size, len(out))
        return out
