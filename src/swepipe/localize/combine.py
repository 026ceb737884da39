"""Combinators: two localizers' outputs made into one.

The sub-localizers are nested configs (`first`, `second`); their config hashes enter this
config's identity, so changing either re-keys the combination. Both run concurrently on the same
context (their model calls are logged under this stage's binding and answered from the call
cache when they were made before). Each output is read as a file ranking with
`nested.ranked_files` (file pointers by rank, then the files of other pointers).

- `union`: every pointer of `first`, then each pointer of `second` that is not already there
  (same file, kind, lines, symbol and sample); ranks renumbered per sample, file pointers and
  span pointers each from 0, as the retrieval localizer numbers them.
- `rrf`: reciprocal-rank fusion (Cormack et al. 2009): an item's score is the sum over the
  outputs that contain it of `1 / (rrf_k + position + 1)`. Files are fused into ranked `file`
  pointers (score set); span pointers are fused the same way (key: file, kind, lines, symbol)
  and follow the files. One sample (0).
- `agentless`: Agentless' `combine.py`: the model's files first, then retrieval's files not
  already present, up to `top_n` files; `file` pointers only.

`top_n` limits the number of distinct files in every method (spans in other files are dropped).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from swepipe.localize.nested import ComposedConfig, NestedLocalizer, build_localizer, ranked_files
from swepipe.protocols import StageContext
from swepipe.types import CodePointer, Instance

Key = tuple[str, str, int | None, int | None, str | None]


class CombineConfig(ComposedConfig):
    """Combine two localizers (see the module docstring)."""

    component: str = "combine"
    code_version: str = "1"
    method: Literal["union", "rrf", "agentless"] = "agentless"
    """How the two outputs are combined."""
    first: NestedLocalizer
    """The first localizer (for `agentless`: the model's file localization)."""
    second: NestedLocalizer
    """The second localizer (for `agentless`: retrieval)."""
    top_n: int | None = Field(default=None, ge=1)
    """At most this many distinct files in the output; None keeps all (Agentless uses 3)."""
    rrf_k: int = Field(default=60, ge=0)
    """The constant of reciprocal-rank fusion."""


def _key(p: CodePointer) -> Key:
    return (p.file_path, p.kind, p.start_line, p.end_line, p.symbol)


def _renumber(pointers: Sequence[CodePointer]) -> list[CodePointer]:
    """Stable by sample; ranks from 0 per (sample, file pointers | span pointers)."""
    counters: dict[tuple[int, bool], int] = defaultdict(int)
    out = []
    for p in sorted(pointers, key=lambda p: p.sample_idx):
        group = (p.sample_idx, p.kind == "file")
        out.append(p.model_copy(update={"rank": counters[group]}))
        counters[group] += 1
    return out


def union(a: list[CodePointer], b: list[CodePointer], top_n: int | None) -> list[CodePointer]:
    seen = {(_key(p), p.sample_idx) for p in a}
    merged = list(a) + [p for p in b if (_key(p), p.sample_idx) not in seen]
    first = ranked_files(a)
    seen_files = set(first)
    files = first + [f for f in ranked_files(b) if f not in seen_files]
    keep = set(files[:top_n]) if top_n is not None else set(files)
    return _renumber([p for p in merged if p.file_path in keep])


def _fuse(rankings: Sequence[Sequence[object]], k: int) -> list[tuple[object, float]]:
    scores: dict[object, float] = defaultdict(float)
    first: dict[object, tuple[int, int]] = {}
    for j, ranking in enumerate(rankings):
        for i, item in enumerate(dict.fromkeys(ranking)):
            scores[item] += 1.0 / (k + i + 1)
            first.setdefault(item, (i, j))
    return sorted(scores.items(), key=lambda kv: (-kv[1], first[kv[0]]))


def rrf(a: list[CodePointer], b: list[CodePointer], top_n: int | None,
        k: int) -> list[CodePointer]:
    files = _fuse([ranked_files(a), ranked_files(b)], k)[:top_n]
    keep = {f for f, _ in files}
    out = [CodePointer(file_path=str(f), kind="file", rank=r, score=s)
           for r, (f, s) in enumerate(files)]
    spans = [[p for p in sorted(x, key=lambda p: (p.sample_idx, p.rank)) if p.kind != "file"]
             for x in (a, b)]
    by_key = {_key(p): p for x in reversed(spans) for p in x}  # first output's copy wins
    fused = [(key, s) for key, s in _fuse([[_key(p) for p in x] for x in spans], k)
             if by_key[key].file_path in keep]  # type: ignore[index]
    for r, (key, s) in enumerate(fused):
        out.append(by_key[key].model_copy(  # type: ignore[index]
            update={"rank": r, "score": s, "sample_idx": 0}))
    return out


def agentless_combine(model: list[CodePointer], retrieval: list[CodePointer],
                      top_n: int | None) -> list[CodePointer]:
    files = ranked_files(model)[:top_n]
    for f in ranked_files(retrieval):
        if top_n is not None and len(files) >= top_n:
            break
        if f not in files:
            files.append(f)
    return [CodePointer(file_path=f, kind="file", rank=r) for r, f in enumerate(files)]


class CombineLocalizer:
    """Implements `Localizer` by combining two sub-localizers."""

    Config = CombineConfig

    def __init__(self, config: CombineConfig) -> None:
        self.config = config
        self._first = build_localizer(config.first)
        self._second = build_localizer(config.second)

    async def locate(self, instance: Instance, ctx: StageContext) -> list[CodePointer]:
        a, b = await asyncio.gather(self._first.locate(instance, ctx),
                                    self._second.locate(instance, ctx))
        cfg = self.config
        if cfg.method == "union":
            out = union(a, b, cfg.top_n)
        elif cfg.method == "rrf":
            out = rrf(a, b, cfg.top_n, cfg.rrf_k)
        else:
            out = agentless_combine(a, b, cfg.top_n)
        ctx.log.info("combine[%s] %s: %d + %d pointers -> %d", cfg.method,
                     instance.instance_id, len(a), len(b), len(out))
        return out
