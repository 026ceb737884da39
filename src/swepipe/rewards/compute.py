"""Compute pseudo-rewards: run each metric's SQL file and store its rows in `rewards`.

Each metric is one file in `queries/rewards/` returning `(instance_id, stage, config_hash,
sample_idx, metric, value)` per sample; the per-instance row (sample_idx -1) is the mean over the
instance's samples (`per_instance.sql`). Recomputation is idempotent: a metric's rows for the
stage (and config) are deleted and written again in the same transaction, so re-running gives the
same table and a value that became undefined disappears. Selection metrics read the generation
rewards, so stages run in order: localize, generate, select.

Which rewards a stage gets, and their exact definitions: docs/metrics.md (and each SQL file).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import duckdb

from swepipe.errors import InputError
from swepipe.rewards.udfs import register_udfs
from swepipe.store.sql_files import load_query
from swepipe.store.store import Store, insert_rows, registered
from swepipe.types import STAGES, StageName

log = logging.getLogger("swepipe.rewards")


Scale = Literal["rate", "gain", "count"]


@dataclass(frozen=True)
class Metric:
    name: str
    """The `rewards.metric` value."""
    stage: StageName
    query: str
    """File under `queries/rewards/` (without `.sql`)."""
    params: dict[str, Any] = field(default_factory=dict)
    """Extra query parameters besides `$config_hash`."""
    scale: Scale = "rate"
    """What the values are, for plots: a `rate` in [0, 1], a `gain` in [-1, 1] (a difference of
    rates), or a `count` >= 0 (tokens)."""


METRICS: tuple[Metric, ...] = (
    Metric("file_recall", "localize", "file_recall"),
    Metric("all_files_found", "localize", "all_files_found"),
    Metric("line_recall", "localize", "line_recall"),
    Metric("function_recall", "localize", "function_recall"),
    Metric("hit_at_1", "localize", "hit_at_k", {"k": 1}),
    Metric("hit_at_3", "localize", "hit_at_k", {"k": 3}),
    Metric("hit_at_5", "localize", "hit_at_k", {"k": 5}),
    Metric("context_tokens", "localize", "context_tokens", scale="count"),
    Metric("gold_pass_rate", "generate", "gold_pass_rate"),
    Metric("fail_to_pass_rate", "generate", "fail_to_pass_rate"),
    Metric("pass_to_pass_rate", "generate", "pass_to_pass_rate"),
    Metric("resolved", "generate", "resolved"),
    Metric("levenshtein_similarity", "generate", "levenshtein_similarity"),
    Metric("swe_rl_similarity", "generate", "swe_rl_similarity"),
    Metric("changed_line_coverage", "generate", "changed_line_coverage"),
    Metric("selection_gain_vs_random", "select", "selection_gain_vs_random",
           {"quality": "resolved", "metric": "selection_gain_vs_random"}, scale="gain"),
    Metric("selection_gain_vs_random_similarity", "select", "selection_gain_vs_random",
           {"quality": "swe_rl_similarity", "metric": "selection_gain_vs_random_similarity"},
           scale="gain"),
    Metric("gold_injection_accuracy", "select", "gold_injection_accuracy"),
)
METRIC_NAMES: tuple[str, ...] = tuple(m.name for m in METRICS)


def metric_scale(name: str) -> Scale:
    """The scale of a metric; rewards computed outside `METRICS` (`llm_similarity`,
    `predicted_resolved`) are rates."""
    return next((m.scale for m in METRICS if m.name == name), "rate")


def in_metric_order(names: set[str] | list[str]) -> list[str]:
    """`names` in the order of `METRICS` (the order of docs/metrics.md); others after, sorted."""
    known = [m for m in METRIC_NAMES if m in names]
    return known + sorted(set(names) - set(known))


SHARED_VIEWS: dict[str, tuple[str, ...]] = {
    "localize": ("loc_pointers", "loc_samples"),
    "generate": ("current_patches",),
}
"""Views every metric of a stage reads. While the stage's metrics run they are materialized once
as temp tables of the same name (DuckDB resolves `temp` before `main`), restricted to the config
being computed, instead of being re-evaluated by each metric."""


@dataclass
class RewardsReport:
    rows: dict[str, int] = field(default_factory=dict)
    """Rows stored per metric (per-sample and per-instance together)."""
    seconds: dict[str, float] = field(default_factory=dict)
    gold_symbols: int = 0

    def __str__(self) -> str:
        lines = [f"{name:<38} {n:>9} rows  {self.seconds[name]:6.2f}s"
                 for name, n in self.rows.items()]
        if self.gold_symbols:
            lines.insert(0, f"gold symbols: {self.gold_symbols} new rows")
        return "\n".join(lines) or "no metrics computed"


def compute_rewards(store: Store, *, stage: StageName | None = None,
                    config_hash: str | None = None, metrics: list[str] | None = None,
                    repos_dir: Path | None = None) -> RewardsReport:
    """Compute and store rewards for one stage (or all) and one config (or all).

    `repos_dir` (local clones named `<owner>__<name>`) enables `function_recall`: the gold
    functions are found with tree-sitter first (`gold.compute_gold_symbols`)."""
    if stage is not None and stage not in STAGES:
        raise InputError(f"unknown stage {stage!r} (one of {', '.join(STAGES)})", field="stage")
    unknown = set(metrics or ()) - set(METRIC_NAMES)
    if unknown:
        raise InputError(f"unknown metric(s) {sorted(unknown)}; known: {', '.join(METRIC_NAMES)}")
    report = RewardsReport()
    if repos_dir is not None and stage in (None, "localize"):
        from swepipe.rewards.gold import compute_gold_symbols, git_source_reader

        report.gold_symbols = compute_gold_symbols(store, git_source_reader(Path(repos_dir)))
    chosen = [m for m in METRICS if (stage is None or m.stage == stage)
              and (metrics is None or m.name in metrics)]
    with store.transaction() as conn:
        register_udfs(conn)
        cached: list[str] = []
        for metric in chosen:  # METRICS is in stage order: select reads generate's rewards
            if not cached or cached[0] != metric.stage:
                _uncache(conn, cached)
                cached = [metric.stage, *_cache(conn, metric.stage, config_hash)]
            t0 = time.perf_counter()
            params = {"config_hash": config_hash, **metric.params}
            new = conn.sql(load_query(f"rewards/{metric.query}"), params=params).to_arrow_table()
            with registered(conn, _new=new):
                rows = conn.sql(load_query("rewards/per_instance")).to_arrow_table()
            conn.execute(load_query("rewards/delete_metric"),
                         {"stage": metric.stage, "metric": metric.name,
                          "config_hash": config_hash})
            report.rows[metric.name] = insert_rows(conn, "rewards", rows)
            report.seconds[metric.name] = time.perf_counter() - t0
            log.info("%s: %d rows in %.2fs", metric.name, report.rows[metric.name],
                     report.seconds[metric.name])
        _uncache(conn, cached)
    return report


def _cache(conn: duckdb.DuckDBPyConnection, stage: str, config_hash: str | None) -> list[str]:
    names = SHARED_VIEWS.get(stage, ())
    for name in names:  # names come from SHARED_VIEWS, never from input
        conn.execute(f"CREATE TEMP TABLE {name} AS SELECT * FROM main.{name} "
                     "WHERE $config_hash IS NULL OR config_hash = $config_hash",
                     {"config_hash": config_hash})
    return list(names)


def _uncache(conn: duckdb.DuckDBPyConnection, cached: list[str]) -> None:
    for name in cached[1:]:
        conn.execute(f"DROP TABLE IF EXISTS temp.{name}")
