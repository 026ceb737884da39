"""Files an issue names: paths, dotted module names and traceback frames, matched to a listing.

Three kinds of mention, all matched against the repository's file paths by suffix (an issue
quotes `site-packages/django/db/models/query.py` or `/home/me/src/astropy/io/fits/card.py`; the
repository holds `django/db/models/query.py`):
- a path ending in a source extension (`sklearn/utils/validation.py`, `card.py`); a bare file
  name matches every file of that name, so it counts only when at most `max_matches` files match;
- a traceback frame (`File "/x/y/z.py", line 12`): the same match, for the frame's path;
- a dotted name (`django.db.models.query.QuerySet.bulk_create`, `from astropy.io import fits`):
  its longest prefix that is a module (`a/b/c.py` or `a/b/c/__init__.py`) is the file; the
  first component alone never counts (it is the package, which every file is in).
Vectorized over the listing with one dictionary of path suffixes, built once per listing.

`defining_files` is the other half: names the issue uses (`StatReloader`, `Expression.compile`)
matched to the files whose chunks define them (`Definitions`, built once per index view from
the chunk symbols), weighted by how few files define each.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import polars as pl

_PATH = re.compile(r"(?<![\w.])((?:[\w.-]+[/\\])*[\w-]+\.(?:py|pyx|pyi|js|jsx|ts|tsx|java|go))\b")
_DOTTED = re.compile(r"(?<![\w/.])([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)")
_FROM_IMPORT = re.compile(r"\bfrom\s+([A-Za-z_][\w.]*)\s+import\s+([\w ,]+)")


@lru_cache(maxsize=16)
def _suffixes(files: tuple[str, ...]) -> dict[str, tuple[int, ...]]:
    """Every `/`-suffix of every path -> the files ending with it."""
    out: dict[str, list[int]] = defaultdict(list)
    for i, path in enumerate(files):
        parts = path.split("/")
        for k in range(len(parts)):
            out["/".join(parts[k:])].append(i)
    return {k: tuple(v) for k, v in out.items()}


def _match_path(mention: str, table: dict[str, tuple[int, ...]]) -> tuple[int, ...]:
    parts = mention.replace("\\", "/").strip("./").split("/")
    for k in range(len(parts)):  # longest suffix the repository has
        hit = table.get("/".join(parts[k:]))
        if hit:
            return hit
    return ()


def _match_module(dotted: str, table: dict[str, tuple[int, ...]]) -> tuple[int, ...]:
    parts = dotted.split(".")
    for n in range(len(parts), 1, -1):
        stem = "/".join(parts[:n])
        hit = table.get(f"{stem}.py") or table.get(f"{stem}/__init__.py")
        if hit:
            return hit
    return ()


def mentioned_files(text: str, files: tuple[str, ...], *, max_matches: int = 3,
                    modules: bool = True) -> set[int]:
    """Indices into `files` of the files the text mentions (see the module docstring);
    `modules=False` counts paths and traceback frames only."""
    table = _suffixes(files)
    found: set[int] = set()
    for m in _PATH.findall(text):
        hit = _match_path(m, table)
        if 0 < len(hit) <= max_matches:
            found.update(hit)
    if not modules:
        return found
    dotted = set(_DOTTED.findall(text))
    for module, names in _FROM_IMPORT.findall(text):
        dotted.update(f"{module}.{n.strip()}" for n in names.split(",") if n.strip())
    for d in dotted:
        if d.rsplit(".", 1)[-1] in ("py", "pyx", "pyi", "js", "ts", "java", "go"):
            continue  # a file name, handled above
        hit = _match_module(d, table)
        if 0 < len(hit) <= max_matches:
            found.update(hit)
    return found


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{3,}")
_QUALIFIED = re.compile(r"\b([A-Za-z_]\w*)\.([A-Za-z_]\w*)\b")


@dataclass(frozen=True)
class Definitions:
    """Which files define a name, from the chunk symbols of an index view: module-level
    classes and functions (`QuerySet`), and members by their last two components
    (`Expression.compile`, `QuerySet.bulk_create`), with how many files define each."""

    frame: pl.DataFrame
    """Columns `name`, `qualified` (a `Class.member`), `file`, `n_files`: one row per
    (name, file)."""

    @classmethod
    def of(cls, symbols: list[str | None], file_ids: np.ndarray) -> Definitions:
        import polars as pl  # here, not at import: the CLI starts without it

        chunks = pl.DataFrame({"symbol": symbols, "file": file_ids},
                              schema={"symbol": pl.String, "file": pl.Int64}).drop_nulls()
        qualified = pl.col("symbol").str.contains(".", literal=True)
        frame = (chunks.select(
            name=pl.when(qualified).then(pl.col("symbol").str.extract(r"([^.]+\.[^.]+)$"))
            .otherwise(pl.col("symbol")),
            qualified=qualified, file=pl.col("file"))
            .unique()
            .with_columns(n_files=pl.len().over("name", "qualified")))
        return cls(frame)


def defining_files(text: str, definitions: Definitions, n_files: int, *, weight: float,
                   qualified_weight: float, max_files: int = 3) -> np.ndarray:
    """Per file, the largest `weight / n` over the module-level names the text uses verbatim
    (at least 4 characters) that `n <= max_files` files define, and `qualified_weight / n`
    likewise for `Class.member` names; 0 for other files. A name every backend defines says
    nothing, and one defined in two files says half as much as one defined in one."""
    import polars as pl

    names = list(set(_IDENTIFIER.findall(text)))
    members = list({f"{a}.{b}" for a, b in _QUALIFIED.findall(text)})
    frame = definitions.frame
    hits = frame.filter(
        (pl.col("n_files") <= max_files)
        & ((~pl.col("qualified") & pl.col("name").is_in(names))
           | (pl.col("qualified") & pl.col("name").is_in(members))))
    out = np.zeros(n_files)
    if hits.height:
        w = pl.when(pl.col("qualified")).then(qualified_weight).otherwise(weight)
        best = hits.group_by("file").agg((w / pl.col("n_files")).max().alias("w"))
        np.maximum.at(out, best["file"].to_numpy(), best["w"].to_numpy())
    return out
