"""Re-migrating files that an earlier import layout wrote in another shape, without duplicates.

Layout 1 (before per-level configs) gave an Agentless v1.0 localization file one config, named
after its finest filled level, and so lost the coarser levels. Layout 2 gives every level its
own config (agentless_levels), which changes the config of such a file and of every file chained
to it (their upstream hashes change). `legacy_imports.rows` records the layout; an Agentless
source recorded under an older layout is not "unchanged": it is read again, and the configs the
old layout gave it (same stage and params, another hash: superseded_configs.sql) are retired for
the file's instances in the same transaction that writes the new shape (retire_configs.sql), so
the store ends up as if the file had been imported in layout 2 only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import duckdb
import pyarrow as pa

from swepipe.migrate.agentless_levels import LEVEL_COMPONENTS
from swepipe.migrate.plan import FilePlan
from swepipe.store.sql_files import load_query
from swepipe.store.store import registered

LAYOUT = 2
"""The shape this importer writes; recorded as `layout` in `legacy_imports.rows`."""

Reader = Callable[[str, dict[str, Any]], list[tuple]]
"""(sql, params) -> rows, read-only in a dry run."""


def needs_reshape(fmt: str, layout: int) -> bool:
    """An import row whose file is read again although its checksum is unchanged."""
    return fmt.startswith("agentless/") and layout < LAYOUT


def recorded(read: Reader, paths: list[str]) -> list[tuple[str, str, str, int]]:
    """(source_path, checksum, format, layout) of the `legacy_imports` rows of these paths."""
    return read(load_query("migrate/recorded_imports"), {"paths": paths})


def find_superseded(read: Reader, plan: FilePlan, hashes: set[str]) -> None:
    """Fill `plan.superseded` with the configs an older layout gave its file."""
    configs = list(plan.configs.values())
    instances = sorted({r.instance_id for r in plan.results})
    if not configs or not instances:
        return
    rows = read(load_query("migrate/superseded_configs"), {
        "stages": [c["stage"] for c in configs], "params": [c["params"] for c in configs],
        "components": [c["component"] for c in configs], "hashes": sorted(hashes),
        "instances": instances, "loc_components": list(LEVEL_COMPONENTS)})
    plan.superseded = [{"config_hash": h, "component": comp, "stage": stage, "stage_runs": n,
                        "instances": instances} for h, comp, stage, n in rows]


def retire(conn: duckdb.DuckDBPyConnection, plans: list[FilePlan],
           replaced: list[tuple[str, str]]) -> None:
    """Delete the superseded configs' rows for their files' instances, and the `legacy_imports`
    rows (path, checksum) that the import writes again."""
    pairs = [(s["config_hash"], i) for p in plans for s in p.superseded for i in s["instances"]]
    if not pairs and not replaced:
        return
    retire_t = pa.table({"config_hash": pa.array([h for h, _ in pairs], pa.string()),
                         "instance_id": pa.array([i for _, i in pairs], pa.string())})
    replaced_t = pa.table({"source_path": pa.array([p for p, _ in replaced], pa.string()),
                           "checksum": pa.array([c for _, c in replaced], pa.string())})
    with registered(conn, _retire=retire_t, _replaced=replaced_t):
        conn.execute(load_query("migrate/retire_configs"))
