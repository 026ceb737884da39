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
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache

import numpy as np

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


def defining_files(text: str, symbols: list[str | None], file_ids: np.ndarray, *,
                   max_files: int = 3) -> np.ndarray:
    """Files defining a class or function the text names verbatim (`bulk_create`,
    `QuerySet`): the last component of a chunk's symbol, at least 4 characters, defined in at
    most `max_files` files (a name every backend defines says nothing)."""
    named = set(_IDENTIFIER.findall(text))
    hits = [(s.rsplit(".", 1)[-1], int(f)) for s, f in zip(symbols, file_ids)
            if s and s.rsplit(".", 1)[-1] in named]
    by_name: dict[str, set[int]] = defaultdict(set)
    for name, f in hits:
        by_name[name].add(f)
    out = {f for files in by_name.values() if len(files) <= max_files for f in files}
    return np.array(sorted(out), dtype=np.int64)
