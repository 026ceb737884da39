"""Every Python function the reward queries call, registered on a DuckDB connection at once."""

from __future__ import annotations

import duckdb
import pyarrow as pa
from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

from swepipe.rewards import similarity

_ADDED_ARROW = pa.list_(pa.struct([("path", pa.string()), ("line", pa.int32())]))


def added_lines(diff: str) -> list[dict[str, object]]:
    """The lines a diff adds, as (target path, line number in the patched file)."""
    try:
        patch = PatchSet(diff)
    except (UnidiffParseError, Exception):  # noqa: BLE001 - an unparseable diff adds nothing
        return []
    out = []
    for pf in patch:
        path = pf.target_file
        if path is None or path == "/dev/null":
            continue
        path = path[2:] if path.startswith("b/") else path
        for hunk in pf:
            out += [{"path": path, "line": ln.target_line_no} for ln in hunk if ln.is_added]
    return out


def _udf_added_lines(diffs: pa.ChunkedArray) -> pa.Array:
    return pa.array([None if d is None else added_lines(d) for d in diffs.to_pylist()],
                    type=_ADDED_ARROW)


def register_udfs(conn: duckdb.DuckDBPyConnection) -> None:
    """`levenshtein_similarity`, `swerl_ratio`, `swerl_file_changes`, `patch_added_lines`."""
    from duckdb.func import FunctionNullHandling

    similarity.register_udfs(conn)
    have = conn.execute("SELECT count(*) FROM duckdb_functions() "
                        "WHERE function_name = 'patch_added_lines'").fetchall()[0][0]
    if not have:
        conn.create_function("patch_added_lines", _udf_added_lines, ["VARCHAR"],
                             "STRUCT(path VARCHAR, line INTEGER)[]", type="arrow",
                             null_handling=FunctionNullHandling.SPECIAL)
