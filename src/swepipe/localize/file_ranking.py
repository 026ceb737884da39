"""From chunk scores to a file ranking: the switches measured in docs/localization.md.

Each switch is a field of `RankingConfig` (part of the retrieval localizer's config hash):
- `chunk_decay`: a file scores `sum_i s_i * decay**i` over its chunk scores sorted best first,
  so evidence spread over many chunks counts (0 is the best chunk alone);
- `length_exponent`: a file's score is divided by `tokens ** length_exponent` (the decayed sum
  grows with the file; a slight discount keeps the largest modules from topping every query);
- `nonlib_weight`: files under non-library paths (examples, docs, benchmarks, setup scripts;
  `nonlib_patterns`) have their score multiplied by it;
- `mention_weight`: files the issue names (paths, dotted modules, traceback frames;
  `localize.mentions`) have their score multiplied by `1 + mention_weight`;
- `symbol_weight`, `qualified_weight`: files defining a module-level name (`StatReloader`) or a
  `Class.member` (`Expression.compile`) the issue uses have their score multiplied by
  `1 + weight / n`, n the number of files defining it (at most `symbol_max_files`);
- `strip_comments`, `strip_version_lines`: template comments and environment-dump lines are
  removed from the issue before it is a query (`localize.issue_query`);
- `title_repeats`: the issue's title counts this many more times in the lexical query;
- `query_tf`: how a term repeated in the issue weighs: `log` (`1 + log(count)`, the embedder's
  own weighting) or `once` (every term once: pasted logs and test names stop dominating).
All arrays: the aggregation is one sort and one bincount over the view's chunks.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

from swepipe.localize.mentions import mentioned_files
from swepipe.repos.lexical import Bm25Params

NONLIB_PATTERNS = (r"(^|/)(examples?|docs?|doc_src|benchmarks?|asv_bench|scripts|tools|ci|"
                   r"tutorials?|galleries|gallery|extern|externals|_vendor|sandbox)/",
                   r"(^|/)(setup|conftest|noxfile|fabfile|conf)\.py$")


class RankingConfig(BaseModel):
    """How chunk scores become a file ranking (see the module docstring)."""

    model_config = {"extra": "forbid", "frozen": True}

    chunk_decay: float = Field(default=0.7, ge=0, lt=1)
    """File score = sum of its chunk scores, best first, the i-th weighted `decay**i`."""
    length_exponent: float = Field(default=0.075, ge=0, le=1)
    """File score divided by `max(tokens, 1) ** length_exponent` (0: no length discount)."""
    nonlib_weight: float = Field(default=0.5, ge=0, le=1)
    """Score factor of files matching `nonlib_patterns` (1: no down-weighting)."""
    nonlib_patterns: tuple[str, ...] = NONLIB_PATTERNS
    """Regular expressions (searched in the repository-relative path) of non-library files."""
    mention_weight: float = Field(default=1.0, ge=0)
    """Files the issue names get their score multiplied by `1 + mention_weight`."""
    symbol_weight: float = Field(default=0.25, ge=0)
    """Files defining a module-level class or function the issue names verbatim get their
    score multiplied by `1 + symbol_weight / n` (n files define it; the best name counts)."""
    qualified_weight: float = Field(default=0.5, ge=0)
    """The same for a `Class.member` the issue names (`Expression.compile`)."""
    symbol_max_files: int = Field(default=3, ge=1)
    """A name more files than this define says nothing (every backend's `as_sql`)."""
    strip_comments: bool = True
    """Drop HTML comments (issue-template instructions) from the query."""
    strip_version_lines: bool = True
    """Drop environment-dump lines (`numpy: 1.19.1`, `pip==20.2`) from the query."""
    mention_modules: bool = False
    """Dotted module names count as mentions too (off: measured, they point at re-exporting
    `__init__.py` files more often than at the defining module)."""
    title_repeats: int = Field(default=3, ge=0)
    """The issue's first line (its title, a summary) is added this many more times to the
    lexical query, so its terms weigh `1 + log(1 + n)` instead of 1."""
    query_tf: Literal["log", "once"] = "log"
    """Weight of a query term repeated in the issue: `1 + log(count)`, or once."""
    bm25: Bm25Params = Field(default_factory=Bm25Params)
    """BM25 constants of the chunk scores."""


def aggregate_files(file_ids: np.ndarray, scores: np.ndarray, n_files: int,
                    decay: float) -> np.ndarray:
    """Per-file score from chunk scores: decayed sum of the file's chunks, best first."""
    if len(scores) == 0:
        return np.zeros(n_files)
    s = scores.astype(np.float64)
    if decay == 0:
        out = np.full(n_files, -np.inf)
        np.maximum.at(out, file_ids, s)
        return np.where(np.isfinite(out), out, 0.0)
    order = np.lexsort((-s, file_ids))
    f = file_ids[order]
    first = np.flatnonzero(np.concatenate(([True], f[1:] != f[:-1])))
    rank = np.arange(len(f)) - np.repeat(first, np.diff(np.concatenate((first, [len(f)]))))
    return np.bincount(f, weights=s[order] * decay ** rank, minlength=n_files)


@lru_cache(maxsize=16)
def _nonlib_files(files: tuple[str, ...], patterns: tuple[str, ...]) -> np.ndarray:
    """Indices of the files a non-library pattern matches (once per listing, not per query)."""
    nonlib = re.compile("|".join(f"(?:{p})" for p in patterns))
    out = np.array([i for i, f in enumerate(files) if nonlib.search(f)], dtype=np.int64)
    out.setflags(write=False)  # shared by every caller of the cache
    return out


def file_priors(files: list[str], query: str, config: RankingConfig) -> np.ndarray:
    """Per-file score factors from the path alone (non-library) and the issue's mentions."""
    prior = np.ones(len(files))
    listing = tuple(files)
    if config.nonlib_weight != 1.0 and config.nonlib_patterns:
        prior[_nonlib_files(listing, config.nonlib_patterns)] *= config.nonlib_weight
    if config.mention_weight > 0:
        named = np.array(sorted(mentioned_files(query, listing,
                                                  modules=config.mention_modules)), dtype=np.int64)
        prior[named] *= 1.0 + config.mention_weight
    return prior


def rank(scores: np.ndarray, *, finite: bool = False) -> np.ndarray:
    """Indices of the positive scores (`finite`: of every finite score, e.g. inner products),
    best first (ties by index, i.e. by path)."""
    hit = np.flatnonzero(np.isfinite(scores) if finite else scores > 0)
    return hit[np.lexsort((hit, -scores[hit]))]


def fuse(rankings: list[np.ndarray], n: int, weights: list[float], k: float = 60.0) -> np.ndarray:
    """Reciprocal rank fusion: `sum_r w_r / (k + rank_r)`; unranked items add nothing."""
    out = np.zeros(n)
    for order, w in zip(rankings, weights):
        out[order] += w / (k + 1 + np.arange(len(order)))
    return out
