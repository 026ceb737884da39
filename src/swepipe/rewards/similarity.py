"""Textual similarity of a candidate patch to the gold patch, in Python and as DuckDB functions.

Two metrics (exact definitions in docs/metrics.md):

- `swe_rl_similarity`: SWE-RL's published reward for unified diffs (`calculate_reward_unidiff` in
  facebookresearch/swe-rl, `src/swerl/core/reward.py`), reproduced exactly so numbers compare with
  the paper's: each diff becomes {path: change text} (`file_level_changes`), each file of the
  union scores `difflib.SequenceMatcher(None, pred, gold, autojunk=False).ratio()` (0 when either
  side lacks the file or its text is empty), the reward is the mean; both empty scores 1.
- `levenshtein_similarity`: rapidfuzz's normalized Levenshtein similarity of the two diff texts,
  `1 - distance / max(len)`, both empty = 1. It is the fast variant: rapidfuzz's batch scorer runs
  in C++ threads; a million SWE-bench-sized pairs took ~2.5 min on 2 cores, where the difflib
  loop would take ~28 h (benchmarks/similarity.py).

Inside SQL both run as vectorized Arrow UDFs (`register_udfs`): DuckDB hands over 2048 rows per
call, which go to `rapidfuzz.process.cpdist` in one call. difflib has no batch form (it is pure
Python), so `swerl_ratio` loops in Python by necessity; the queries deduplicate identical
(candidate, gold) file pairs before calling it.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Sequence

import duckdb
import pyarrow as pa
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

FILE_CHANGES_TYPE = "STRUCT(path VARCHAR, change VARCHAR)[]"
_FILE_CHANGES_ARROW = pa.list_(pa.struct([("path", pa.string()), ("change", pa.string())]))


def file_level_changes(diff: str) -> dict[str, str]:
    """SWE-RL's `get_filelevel_diff`: {path: the file's hunks (headers included) joined by
    newlines}. A renamed file is keyed by its source path and starts with `rename from A to B`;
    binary files are skipped; an unparseable diff has no files."""
    try:
        patch = PatchSet(diff)
    except UnidiffParseError:
        return {}
    except Exception as exc:  # noqa: BLE001 - unidiff raises others on odd input; SWE-RL too
        warnings.warn(f"unexpected unidiff parsing error: {exc}", stacklevel=2)
        return {}
    result: dict[str, str] = {}
    for pf in patch:
        if pf.is_binary_file:
            continue
        if pf.is_rename:
            source, target = pf.source_file, pf.target_file
            source = source[2:] if source.startswith("a/") else source
            target = target[2:] if target.startswith("b/") else target
            header, path = f"rename from {source} to {target}", source
        else:
            header, path = "", pf.path
        body = "\n".join(str(hunk).strip() for hunk in pf)
        result[path] = (header + "\n" + body).strip()
    return result


def change_ratio(pred: str, gold: str) -> float:
    """One file's SWE-RL score: 0 when either change is empty (a missing file), else difflib."""
    if pred == "" or gold == "":
        return 0.0
    return difflib.SequenceMatcher(None, pred, gold, autojunk=False).ratio()


def swe_rl_similarity(pred_diff: str, gold_diff: str) -> float:
    """The SWE-RL reward of one candidate diff against the gold diff (see module docstring)."""
    pred, gold = file_level_changes(pred_diff), file_level_changes(gold_diff)
    paths = set(pred) | set(gold)
    if not paths:
        return 1.0
    return sum(change_ratio(pred.get(p, ""), gold.get(p, "")) for p in paths) / len(paths)


def levenshtein_batch(a: Sequence[str | None], b: Sequence[str | None]) -> list[float | None]:
    """Normalized Levenshtein similarity pairwise (`a[i]` vs `b[i]`); None where either is None."""
    idx = [i for i, (x, y) in enumerate(zip(a, b)) if x is not None and y is not None]
    out: list[float | None] = [None] * len(a)
    if idx:
        scores = process.cpdist([a[i] for i in idx], [b[i] for i in idx],
                                scorer=Levenshtein.normalized_similarity, workers=-1)
        for i, s in zip(idx, scores.tolist()):
            out[i] = s
    return out


def ratio_batch(pred: Sequence[str | None], gold: Sequence[str | None]) -> list[float | None]:
    """`change_ratio` pairwise; None where either is None. A Python loop: difflib has no batch
    form, and a process pool inside a DuckDB function proved fragile (it re-imports `__main__`),
    so callers deduplicate pairs instead (see `queries/rewards/swe_rl_similarity.sql`)."""
    return [None if p is None or g is None else change_ratio(p, g) for p, g in zip(pred, gold)]


# -- DuckDB functions ------------------------------------------------------------------------


def _udf_levenshtein(a: pa.ChunkedArray, b: pa.ChunkedArray) -> pa.Array:
    return pa.array(levenshtein_batch(a.to_pylist(), b.to_pylist()), type=pa.float64())


def _udf_ratio(a: pa.ChunkedArray, b: pa.ChunkedArray) -> pa.Array:
    return pa.array(ratio_batch(a.to_pylist(), b.to_pylist()), type=pa.float64())


def _udf_file_changes(diffs: pa.ChunkedArray) -> pa.Array:
    rows = [None if d is None else [{"path": p, "change": c}
                                    for p, c in sorted(file_level_changes(d).items())]
            for d in diffs.to_pylist()]
    return pa.array(rows, type=_FILE_CHANGES_ARROW)


def register_udfs(conn: duckdb.DuckDBPyConnection) -> None:
    """Make `levenshtein_similarity(a, b)`, `swerl_ratio(pred, gold)` and
    `swerl_file_changes(diff)` callable in SQL on this connection (idempotent)."""
    from duckdb.func import FunctionNullHandling

    have = {r[0] for r in conn.execute(
        "SELECT function_name FROM duckdb_functions() WHERE function_name IN "
        "('levenshtein_similarity', 'swerl_ratio', 'swerl_file_changes')").fetchall()}
    special = {"type": "arrow", "null_handling": FunctionNullHandling.SPECIAL}
    if "levenshtein_similarity" not in have:
        conn.create_function("levenshtein_similarity", _udf_levenshtein,
                             ["VARCHAR", "VARCHAR"], "DOUBLE", **special)
    if "swerl_ratio" not in have:
        conn.create_function("swerl_ratio", _udf_ratio, ["VARCHAR", "VARCHAR"], "DOUBLE",
                             **special)
    if "swerl_file_changes" not in have:
        conn.create_function("swerl_file_changes", _udf_file_changes, ["VARCHAR"],
                             FILE_CHANGES_TYPE, **special)
