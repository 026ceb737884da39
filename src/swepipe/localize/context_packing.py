"""Packing a ranked file list into a token budget (a 128k-token context of whole files).

Filling the budget with files in rank order until the next one does not fit lets one huge file
(an 80k-token `dataarray.py`) end the context after two files. The packer instead
- skips a file that does not fit and keeps filling with the ones below it (`skip_oversized`,
  as CodeMonkeys' own packer can), and
- takes files in the order of `score / tokens ** size_exponent`: the file score is a sum of
  chunk evidence, which grows with a file's size, so a slight size discount buys more expected
  gold per token (0 is plain rank order).
The chosen files come back in their original rank order. Measured in docs/localization.md.
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, Field


class ContextPacking(BaseModel):
    """How a file ranking becomes a context of whole files within a token budget."""

    model_config = {"extra": "forbid", "frozen": True}

    budget: int = Field(default=128_000, gt=0)
    """Tokens the packed files may take in all (estimated, `models.tokens`)."""
    size_exponent: float = Field(default=0.15, ge=0, le=1)
    """Files are taken in the order of `score / tokens ** size_exponent` (0: rank order)."""
    skip_oversized: bool = True
    """A file that no longer fits is skipped and smaller files below it still fill the budget
    (False: packing stops at the first file that does not fit)."""


def pack_files(scores: np.ndarray, tokens: np.ndarray, config: ContextPacking) -> np.ndarray:
    """Indices (into the rank-ordered `scores`/`tokens`) of the files packed, in rank order."""
    scores = np.asarray(scores, dtype=np.float64)
    tokens = np.asarray(tokens, dtype=np.int64)
    if len(scores) != len(tokens):
        raise ValueError(f"{len(scores)} scores but {len(tokens)} token counts")
    if len(scores) == 0:
        return np.zeros(0, dtype=np.int64)
    value = np.maximum(scores, 0.0) / np.maximum(tokens, 1) ** config.size_exponent
    order = np.lexsort((np.arange(len(scores)), -value))
    if config.skip_oversized:
        # A greedy fill is sequential by nature; it stops early once nothing more can fit.
        chosen, left, smallest = [], config.budget, int(tokens.min())
        for i in order:
            if tokens[i] <= left:
                chosen.append(i)
                left -= int(tokens[i])
                if left < smallest:
                    break
        return np.sort(np.asarray(chosen, dtype=np.int64))
    fits = int(np.searchsorted(np.cumsum(tokens[order]), config.budget, side="right"))
    return np.sort(order[:fits])

