"""The store as a process without one sees it: writes are collected, model calls answered from memory.

A Ray worker runs the same runner, stage caches and model handles as a local run, but it never
opens the store (the store file lives with the driver). `CollectingWriter` has the `StoreWriter`
interface (`commit`, `submit`) and keeps the units; `ArrowBatch.pack` turns them into Arrow
tables (one per target table, plus the stage results' keys) to ship to the driver, and
`ArrowBatch.units()` turns them back into the units that `write_units` commits in one
transaction there. Attempt numbers are assigned by that commit, so a worker's `commit` returns
None (not yet numbered). (A worker's model calls are answered by the run's call broker:
experiments/ray_calls.py.)
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from swepipe.store.codecs import OUTPUT_TABLE
from swepipe.store.writer import RowsCommit, StageCommit, Unit

# The StageCommit fields that travel in `ArrowBatch.stage_keys` (everything but its rows).
_KEY_FIELDS = ("stage", "config_hash", "instance_id", "instance_hash", "status", "error_class",
               "error_message", "run_id", "started_at", "duration_s", "skip_if_done")
_UNIT = "_unit"
# content-addressed tables: one INSERT may not carry a key twice, so packing keeps the first
_DEDUP = {"contents": "content_hash"}


class CollectingWriter:
    """`StoreWriter.commit` and `submit` without a store: units are kept in order until `take()`."""

    def __init__(self) -> None:
        self.units: list[Unit] = []

    async def __aenter__(self) -> CollectingWriter:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Nothing is queued anywhere: a unit is collected as soon as it is committed."""

    async def commit(self, unit: Unit) -> int | None:
        return await self.submit(unit)

    def submit(self, unit: Unit) -> asyncio.Future[int | None]:
        """Collect `unit`; the future is already settled (None: the attempt is numbered when
        the driver commits the batch)."""
        self.units.append(unit)
        future: asyncio.Future[int | None] = asyncio.get_running_loop().create_future()
        future.set_result(None)
        return future

    def take(self) -> list[Unit]:
        units, self.units = self.units, []
        return units


@dataclass
class ArrowBatch:
    """One worker chunk's writes as Arrow: what the driver commits in one transaction."""

    stage_keys: pa.Table | None = None
    """One row per stage result: key, status, error, timing, and `_unit` (its index)."""
    stage_rows: dict[str, pa.Table] = field(default_factory=dict)
    """Output rows per stage table (localizations, patches, selections), with `_unit`."""
    rows: dict[str, pa.Table] = field(default_factory=dict)
    """Plain rows per table (sequences, contents, test_runs, ...)."""
    ignore_existing: frozenset[str] = frozenset()
    """Tables whose rows are skipped when their primary key exists (content-addressed)."""

    @property
    def num_rows(self) -> int:
        tables = [*self.stage_rows.values(), *self.rows.values()]
        return sum(t.num_rows for t in tables) + (self.stage_keys.num_rows
                                                  if self.stage_keys is not None else 0)

    @classmethod
    def pack(cls, units: list[Unit]) -> ArrowBatch:
        keys: list[dict[str, Any]] = []
        stage_rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
        plain: dict[str, list[Any]] = defaultdict(list)
        ignore: set[str] = set()
        for unit in units:
            if isinstance(unit, StageCommit):
                idx = len(keys)
                keys.append({**{f: getattr(unit, f) for f in _KEY_FIELDS}, _UNIT: idx})
                stage_rows[OUTPUT_TABLE[unit.stage]].extend({**r, _UNIT: idx} for r in unit.rows)
            else:
                for name, rows in unit.tables.items():
                    plain[name].append(rows)
                ignore |= unit.ignore_existing
        return cls(stage_keys=pa.Table.from_pylist(keys) if keys else None,
                   stage_rows={n: pa.Table.from_pylist(r) for n, r in stage_rows.items() if r},
                   rows={n: t for n, parts in plain.items() if (t := _merge(n, parts)).num_rows},
                   ignore_existing=frozenset(ignore))

    def units(self) -> list[Unit]:
        """The units to hand to `write_units`: stage results first (in their original order),
        then one unit holding every plain table as Arrow."""
        out: list[Unit] = []
        if self.stage_keys is not None:
            rows_by_unit: dict[int, list[dict[str, Any]]] = defaultdict(list)
            for table in self.stage_rows.values():
                for row in table.to_pylist():
                    rows_by_unit[row.pop(_UNIT)].append(row)
            for key in self.stage_keys.to_pylist():
                idx = key.pop(_UNIT)
                out.append(StageCommit(**key, rows=rows_by_unit.get(idx, [])))
        if self.rows:
            out.append(RowsCommit(dict(self.rows), ignore_existing=self.ignore_existing))
        return out


def _merge(name: str, parts: list[Any]) -> pa.Table:
    """One Arrow table from dict-row parts and Arrow parts (dict rows converted once)."""
    if name in _DEDUP:  # every part as rows, so a key repeated across parts is dropped too
        parts = [p.to_pylist() if isinstance(p, pa.Table) else p for p in parts]
    dicts = [row for part in parts if not isinstance(part, pa.Table) for row in part]
    if name in _DEDUP:
        dicts = list({row[_DEDUP[name]]: row for row in dicts}.values())
    tables = [p for p in parts if isinstance(p, pa.Table) and p.num_rows]
    if dicts:
        tables.append(pa.Table.from_pylist(dicts))
    if not tables:
        return pa.table({})
    return pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]

