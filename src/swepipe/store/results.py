"""A store's results as comparable tables: what two runs of the same configs must agree on.

`result_tables(store)` reads each table of `RESULT_TABLES` with its query in
`queries/store/results/` - done stage results by key, the outputs of done attempts
(localizations, patches, selections), the test matrix, rewards, and the model calls made - with
only the columns that two equivalent runs share (no attempt numbers, run ids, timestamps,
durations or test output, which carries timings). Rows come back sorted, so `==` compares two
stores. Used by the local-vs-Ray parity test and `benchmarks/crash_safety.py`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from swepipe.store.sql_files import load_query
from swepipe.store.store import Store

RESULT_TABLES = ("stage_runs", "localizations", "patches", "selections", "test_runs", "rewards",
                 "model_calls")


def result_tables(store: Store, tables: Sequence[str] = RESULT_TABLES,
                  ) -> dict[str, list[tuple[Any, ...]]]:
    """Each named result table as sorted row tuples (one read-only connection for all)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with store.connect(read_only=True) as conn:
        for name in tables:
            rows = conn.execute(load_query(f"store/results/{name}")).fetchall()
            out[name] = sorted(rows, key=repr)
    return out
