"""Merging stage results by sample: legacy caches spread one result over several files.

Agentless writes repair sample i to `output_{i}_processed.jsonl` and adds its normalized form in
`output_{i}_normalized.jsonl`; a live run commits all samples of an instance at once. So the
results of one (stage, config, instance) are merged before they are written:
- pointers: a sample's pointers replace that sample's earlier pointers;
- patches: by `sample_idx`; a later file fills in what an earlier one left empty
  (`normalized_diff`, `trajectory_id`, `test`, meta keys) and otherwise wins;
- selections: the later one wins.
The merged result is then merged the same way with the store's current (latest done) attempt on
the same instance revision; if nothing changed it is dropped, else it is the next attempt.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import duckdb
import pyarrow as pa

from swepipe.migrate.plan import StageResult
from swepipe.store.codecs import OUTPUT_TABLE, from_rows, to_rows
from swepipe.store.store import registered
from swepipe.store.writer import StageCommit
from swepipe.types import CodePointer, Patch, Selection, StageName

Key = tuple[StageName, str, str]


def merge_values(stage: StageName, old: Any, new: Any) -> Any:
    if stage == "select":
        return new
    if stage == "localize":
        replaced = {p.sample_idx for p in new}
        kept: list[CodePointer] = [p for p in old if p.sample_idx not in replaced]
        return sorted(kept + list(new), key=lambda p: p.sample_idx)
    by_sample: dict[int, Patch] = {p.sample_idx: p for p in old}
    for p in new:
        prev = by_sample.get(p.sample_idx)
        if prev is None:
            by_sample[p.sample_idx] = p
            continue
        fill = {k: getattr(prev, k) for k in ("normalized_diff", "trajectory_id", "test",
                                              "reason") if getattr(p, k) is None}
        if not p.files and prev.diff == p.diff:
            fill["files"] = prev.files
        by_sample[p.sample_idx] = p.model_copy(update={**fill, "meta": {**prev.meta,
                                                                        **p.meta}})
    return [by_sample[i] for i in sorted(by_sample)]


def merge_results(results: list[StageResult]) -> list[StageResult]:
    """One result per (stage, config, instance), merged in file order."""
    merged: dict[Key, StageResult] = {}
    for r in results:
        key = (r.stage, r.config_hash, r.instance_id)
        prev = merged.get(key)
        merged[key] = r if prev is None else StageResult(
            r.stage, r.config_hash, r.instance_id, merge_values(r.stage, prev.value, r.value))
    return list(merged.values())


def _current(conn: duckdb.DuckDBPyConnection, results: list[StageResult],
             hashes: dict[str, str]) -> dict[Key, Any]:
    """The latest done attempt's value per key, on the same instance revision."""
    if not results:
        return {}
    keys = pa.table({"stage": [r.stage for r in results],
                     "config_hash": [r.config_hash for r in results],
                     "instance_id": [r.instance_id for r in results],
                     "instance_hash": pa.array([hashes.get(r.instance_id) for r in results],
                                               pa.string())})
    with registered(conn, _legacy_keys=keys):
        latest = conn.sql(
            "SELECT s.stage, s.config_hash, s.instance_id, max(s.attempt) AS attempt "
            "FROM stage_runs s JOIN _legacy_keys k ON s.stage = k.stage "
            "AND s.config_hash = k.config_hash AND s.instance_id = k.instance_id "
            "AND s.instance_hash IS NOT DISTINCT FROM k.instance_hash "
            "WHERE s.status = 'done' GROUP BY ALL").to_arrow_table()
    if latest.num_rows == 0:
        return {}  # the usual case: nothing of these results is in the store yet
    # a done attempt with no output rows (e.g. no pointers) is an empty result
    out: dict[Key, Any] = {(r["stage"], r["config_hash"], r["instance_id"]):
                           [] if r["stage"] != "select" else None
                           for r in latest.to_pylist()}
    with registered(conn, _legacy_latest=latest):
        for stage in set(latest.column("stage").to_pylist()):
            rows = conn.sql(
                f"SELECT o.* FROM {OUTPUT_TABLE[stage]} o JOIN _legacy_latest l "
                "ON l.stage = $stage AND o.config_hash = l.config_hash "
                "AND o.instance_id = l.instance_id AND o.attempt = l.attempt",
                params={"stage": stage}).to_arrow_table().to_pylist()
            grouped: dict[Key, list[dict[str, Any]]] = defaultdict(list)
            for row in rows:
                grouped[(stage, row["config_hash"], row["instance_id"])].append(row)
            for key, group in grouped.items():
                out[key] = from_rows(stage, group)
    return out


def merge_with_store(conn: duckdb.DuckDBPyConnection, results: list[StageResult],
                     hashes: dict[str, str]) -> tuple[list[StageCommit], int]:
    """Commits for the results that change the store, and how many were unchanged."""
    current = _current(conn, results, hashes)
    commits, dropped = [], 0
    for r in results:
        key = (r.stage, r.config_hash, r.instance_id)
        value = r.value
        if key in current:
            old = current[key]
            if old is not None:
                value = merge_values(r.stage, old, value)
                if _same(r.stage, old, value):
                    dropped += 1
                    continue
        commits.append(StageCommit(
            stage=r.stage, config_hash=r.config_hash, instance_id=r.instance_id,
            instance_hash=hashes.get(r.instance_id),  # type: ignore[arg-type]
            status="done", rows=to_rows(r.stage, value),
            skip_if_done=False))
    return commits, dropped


def _same(stage: StageName, old: Any, new: Any) -> bool:
    if isinstance(old, Selection) or isinstance(new, Selection):
        return old == new
    return to_rows(stage, old) == to_rows(stage, new)
