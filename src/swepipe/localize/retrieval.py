"""Retrieval localization: exact lexical scoring of AST chunks, optionally fused with a served
embedder (Agentless' retrieval stage, past its lexical ceiling).

The issue text is featurized by the local `HashingEmbedder` and every chunk of the commit's
index view (`repos.index`: content-addressed segments shared by all commits of a repository) is
scored by exact BM25. Chunk scores become file scores (`file_ranking`: a decayed sum over a
file's chunks with a slight discount for its length, a prior against non-library files, the
issue title weighted up, priors for files the issue names by path or traceback frame and for
files defining the classes, functions and `Class.member`s it names, template comments and
environment dumps dropped from the query; measured but off by default, counting repeated issue
terms once; each a config switch, docs/localization.md). With a served embedder (`embedder` =
its model name, passed by the runner as `ctx.embedder`), the same chunks are also scored by
inner product with the issue's vector, and the two file rankings are fused by reciprocal rank
fusion.
Output, in this order:
- `top_files` pointers of kind `file` (rank 0 = best file, score = its file score, tokens = the
  whole file's estimate), or with `context` set the files packed into that token budget;
- `top_chunks` pointers of kind `class`, `function` or `lines` with their spans, symbol, score,
  estimated tokens, ranked 0.. among chunks.
Ranks restart at 0 for chunks; consumers tell the two lists apart by `kind == "file"`.

`restrict_to` (a nested localizer) limits the search to the files it returns; Agentless v1.5
searches only the files its irrelevant-folder filter keeps, which is the nested `agentless`
localizer with `filter_irrelevant = true` and `stop_after = "kept"` (its model call is the same
request as the one the Agentless file step makes, so the call cache answers it once).

A served embedder's `name` must equal the configured value, so a config hash never hides which
model produced the results.
"""

from __future__ import annotations

import os
import weakref
from collections import OrderedDict
from pathlib import Path
from typing import Annotated

import numpy as np
from pydantic import Field

from swepipe.errors import InputError
from swepipe.hashing import AddedLater, Runtime
from swepipe.localize.context_packing import ContextPacking, pack_files
from swepipe.localize.file_ranking import RankingConfig, aggregate_files, file_priors, fuse, rank
from swepipe.localize.issue_query import issue_query
from swepipe.localize.mentions import Definitions, defining_files
from swepipe.localize.nested import ComposedConfig, NestedLocalizer, build_localizer, ranked_files
from swepipe.protocols import Embedder, StageContext
from swepipe.repos.chunks import ChunkConfig
from swepipe.repos.embedders import HashingEmbedder, HashingEmbedderConfig, identifiers
from swepipe.repos.files import FileFilter
from swepipe.repos.index import KINDS, IndexView, open_or_build
from swepipe.types import CodePointer, Instance

CODE_LANGUAGES = ("python", "javascript", "typescript", "java", "go")


def default_index_root() -> Path:
    """`$SWEPIPE_CACHE_DIR/indexes`, else `~/.cache/swepipe/indexes`."""
    base = os.environ.get("SWEPIPE_CACHE_DIR") or Path.home() / ".cache" / "swepipe"
    return Path(base) / "indexes"


class RetrievalLocalizerConfig(ComposedConfig):
    """Lexical retrieval over AST chunks, optionally fused with a served embedder (see the
    module docstring)."""

    component: str = "retrieval"
    code_version: str = "3"

    embedder: str = "local"
    """`local` for the built-in hashing embedder, else the served model's name (ctx.embedder)."""
    local_embedder: HashingEmbedderConfig = Field(
        default_factory=lambda: HashingEmbedderConfig(ngram_weight=0.0))
    """Features of the lexical scoring (always used; with a served embedder too). No character
    trigrams by default: on the development set they bought nothing and took 3.6x the disk."""
    files: FileFilter = Field(default_factory=lambda: FileFilter(languages=CODE_LANGUAGES))
    """Which files are indexed: source files of the supported languages, tests excluded."""
    chunking: ChunkConfig = Field(default_factory=ChunkConfig)
    """How files are cut into chunks (token limit)."""
    top_files: int = Field(default=10, ge=0)
    """How many ranked file pointers to return."""
    top_chunks: int = Field(default=20, ge=0)
    """How many ranked chunk pointers to return."""
    ranking: RankingConfig = Field(default_factory=RankingConfig)
    """How chunk scores become file scores (`file_ranking`; each switch measured)."""
    dense_weight: float = Field(default=1.0, ge=0)
    """Served embedder only: weight of its file ranking in the fusion (the lexical one has 1)."""
    fusion_k: float = Field(default=60.0, gt=0)
    """Reciprocal rank fusion constant: `w / (k + rank)`."""
    query_max_chars: int = Field(default=30_000, gt=0)
    """The issue text is cut to this length (served embedders have input limits)."""
    include_hints: bool = False
    """Append `hints_text` to the query (Agentless and CodeMonkeys do not show hints)."""
    context: Annotated[ContextPacking | None, AddedLater()] = None
    """When set, the file pointers are the files packed into this token budget from the whole
    ranking (`context_packing`: oversized files skipped, a slight size discount), in rank
    order, instead of the first `top_files`."""
    restrict_to: Annotated[NestedLocalizer | None, AddedLater()] = None
    """Search only the files this localizer returns (None: the whole index)."""
    index_dir: Annotated[Path | None, Runtime()] = None
    """Where index stores live; default `$SWEPIPE_CACHE_DIR/indexes` or ~/.cache/swepipe."""
    embed_batch_size: Annotated[int, Runtime()] = 256
    """Texts per request to a served embedder."""
    index_workers: Annotated[int, Runtime()] = Field(
        default_factory=lambda: min(2, os.cpu_count() or 1), ge=1)
    """Processes that chunk and featurize a cold index build's new files (`repos.build_pool`;
    used from `POOL_MIN_FILES` new files on); 1 builds in this process. Default: 2, or fewer
    cores. The index is the same either way."""


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
        self._opened: OrderedDict[tuple[str, str], IndexView] = OrderedDict()
        # an opened view's defined names, dropped with the view
        self._definitions: weakref.WeakKeyDictionary[IndexView, Definitions] = \
            weakref.WeakKeyDictionary()

    def embedder_for(self, ctx: StageContext) -> Embedder | None:
        """The served embedder to fuse with, None for lexical scoring alone."""
        if self.config.embedder == "local":
            return None
        if ctx.embedder is None:
            raise InputError(f"embedder {self.config.embedder!r} is configured but the runner "
                             "passed no ctx.embedder", field="embedder")
        if ctx.embedder.name != self.config.embedder:
            raise InputError(f"ctx.embedder is {ctx.embedder.name!r}, the config says "
                             f"{self.config.embedder!r}", field="embedder")
        return ctx.embedder

    async def index_for(self, instance: Instance, ctx: StageContext) -> IndexView:
        """The index view of the instance's repository at its base commit (built on first use,
        indexing only contents no earlier commit had)."""
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
            Path(ctx.repo_dir), lexical=self._local, served=self.embedder_for(ctx),
            chunking=cfg.chunking, files=cfg.files, batch_size=cfg.embed_batch_size,
            workers=cfg.index_workers)
        self._opened[key] = index
        if len(self._opened) > 4:
            self._opened.popitem(last=False)
        return index

    def definitions(self, index: IndexView) -> Definitions:
        """The view's defined names (read once per opened view)."""
        if index not in self._definitions:
            self._definitions[index] = Definitions.of(index.symbols(np.arange(index.size)),
                                                      index.file_ids)
        return self._definitions[index]

    def query_text(self, instance: Instance) -> str:
        text = instance.problem_statement
        if self.config.include_hints and instance.hints_text:
            text = f"{text}\n\n{instance.hints_text}"
        return text[: self.config.query_max_chars]

    async def score(self, index: IndexView, text: str, ctx: StageContext,
                    among: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """(chunk scores, file scores) over the whole view; chunks outside `among` score 0."""
        cfg = self.config.ranking
        text = issue_query(text, comments=cfg.strip_comments, versions=cfg.strip_version_lines)
        title = text.strip().split("\n", 1)[0]  # "" for an empty issue
        lexical_text = text + f"\n{title}" * cfg.title_repeats
        if cfg.query_tf == "once":
            lexical_text = " ".join(dict.fromkeys(identifiers(lexical_text)))
        query = self._local.features([lexical_text])
        chunk = index.lexical_scores(query, cfg.bm25)
        if among is not None:
            chunk = np.where(among, chunk, 0.0)
        files = aggregate_files(index.file_ids, chunk, len(index.files), cfg.chunk_decay)
        prior = file_priors(index.files, text, cfg)
        if cfg.symbol_weight > 0 or cfg.qualified_weight > 0:
            prior *= 1.0 + defining_files(text, self.definitions(index), len(index.files),
                                          weight=cfg.symbol_weight,
                                          qualified_weight=cfg.qualified_weight,
                                          max_files=cfg.symbol_max_files)
        files = files * prior / np.maximum(index.file_tokens, 1) ** cfg.length_exponent
        served = self.embedder_for(ctx)
        if served is None:
            return chunk, files
        vector = np.asarray(await served.embed([text]), dtype=np.float32)[0]
        dense = index.dense_scores(vector)
        if among is not None:
            dense = np.where(among, dense, -np.inf)
        dense_files = np.full(len(index.files), -np.inf)
        np.maximum.at(dense_files, index.file_ids, dense)
        w = [1.0, self.config.dense_weight]
        k = self.config.fusion_k
        return (fuse([rank(chunk), rank(dense, finite=True)], index.size, w, k),
                fuse([rank(files), rank(dense_files, finite=True)], len(index.files), w, k))

    async def locate(self, instance: Instance, ctx: StageContext) -> list[CodePointer]:
        index = await self.index_for(instance, ctx)
        among = None
        if self._restrict is not None:
            files = ranked_files(await self._restrict.locate(instance, ctx))
            ctx.log.info("retrieval %s: searching the %d files of %s", instance.instance_id,
                         len(files), self.config.restrict_to.component)
            among = np.zeros(index.size, dtype=bool)
            among[index.chunks_of(files)] = True
        chunk_scores, file_scores = await self.score(index, self.query_text(instance), ctx,
                                                     among)
        ranked = rank(file_scores)
        if self.config.context is None:
            ranked = ranked[: self.config.top_files]
        else:
            ranked = ranked[pack_files(file_scores[ranked], index.file_tokens[ranked],
                                       self.config.context)]
        out = [CodePointer(file_path=index.files[i], kind="file", rank=r,
                           score=float(file_scores[i]), tokens=int(index.file_tokens[i]))
               for r, i in enumerate(ranked)]
        top = rank(chunk_scores)[: self.config.top_chunks]
        for r, (i, symbol) in enumerate(zip(top, index.symbols(top))):
            out.append(CodePointer(
                file_path=index.files[index.file_ids[i]], kind=KINDS[index.kinds[i]],
                start_line=int(index.starts[i]), end_line=int(index.ends[i]),
                symbol=symbol, rank=r, score=float(chunk_scores[i]),
                tokens=int(index.tokens[i])))
        ctx.log.debug("retrieval %s: %d chunks scored, %d pointers", instance.instance_id,
                      index.size, len(out))
        return out
