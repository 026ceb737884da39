"""Stage-quality report: one table per stage (rows: dataset and config; columns: metrics as mean ±
95% CI over the dataset's instances), and, with `calibration`, how well each cheap reward predicts
resolution plus the fitted `predicted_resolved` model. The PNG is `swepipe.rewards.plot`.
"""

from __future__ import annotations

import pyarrow as pa
from rich.console import Console
from rich.table import Table

from swepipe.datasets.ingest import require_dataset
from swepipe.rewards.compute import in_metric_order, metric_scale
from swepipe.store.sql_files import load_query
from swepipe.store.store import Store
from swepipe.types import STAGES


def summary(store: Store, stage: str | None = None, dataset: str | None = None) -> pa.Table:
    """(dataset, stage, config_hash, component, metric, n, mean, ci95) over per-instance rewards
    (`queries/rewards/report_summary.sql`). An unknown `dataset` is an InputError."""
    if dataset not in (None, "(none)"):
        require_dataset(store, dataset)
    return store.query(load_query("rewards/report_summary"), {"stage": stage, "dataset": dataset})


def _fmt(cell: dict, row_n: int) -> str:
    mean, ci = cell["mean"], cell["ci95"]
    big = abs(mean) >= 100 or metric_scale(cell["metric"]) == "count"
    text = f"{mean:.0f}" if big else f"{mean:.3f}"
    if ci is not None:
        text += f" ± {ci:.0f}" if big else f" ± {ci:.3f}"
    # a metric undefined on some instances has a smaller n than the row: say so in the cell
    return text if cell["n"] == row_n else f"{text} (n={cell['n']})"


def print_summary(store: Store, console: Console | None = None, stage: str | None = None,
                  dataset: str | None = None) -> int:
    """Print one table per stage, a row per (dataset, config); returns the number of (dataset,
    config, metric) cells shown."""
    console = console or Console(width=200)
    rows = summary(store, stage, dataset).to_pylist()
    if not rows:
        console.print("no rewards stored yet (run `swepipe rewards`)")
        return 0
    for st in STAGES:
        part = [r for r in rows if r["stage"] == st]
        if not part:
            continue
        metrics = in_metric_order({r["metric"] for r in part})
        table = Table(title=f"{st}: mean ± 95% CI over the dataset's instances "
                            "(n = instances with a value)")
        for col in ("dataset", "config", "component", "n"):
            table.add_column(col, no_wrap=True)  # names stay whole; metric headers may wrap
        for col in metrics:
            table.add_column(col)
        keys = list(dict.fromkeys((r["dataset"], r["config_hash"], r["component"]) for r in part))
        for i, (ds, config, component) in enumerate(keys):
            cells = {r["metric"]: r for r in part
                     if r["dataset"] == ds and r["config_hash"] == config}
            n = max(c["n"] for c in cells.values())
            last_of_dataset = i + 1 == len(keys) or keys[i + 1][0] != ds
            table.add_row(ds, config[:8], component, str(n),
                          *[_fmt(cells[m], n) if m in cells else "" for m in metrics],
                          end_section=last_of_dataset)
        console.print(table)
    return len(rows)


def print_calibration(store: Store, console: Console | None = None) -> None:
    """Fit `predicted_resolved`, then print AUC / Spearman of every cheap reward (it included)."""
    # scipy (~1 s to import) only when calibration is asked for, not for every report
    from swepipe.rewards.calibration import calibration_table, fit_predicted_resolved

    console = console or Console(width=200)
    fit = fit_predicted_resolved(store)
    console.print(str(fit) if fit else
                  "predicted_resolved: not fitted (needs candidates with known outcomes of both "
                  "kinds: run the gold tests, then `swepipe rewards`)")
    table = calibration_table(store)
    if table.num_rows == 0:
        console.print("no (cheap reward, outcome) pairs: `resolved` is unknown everywhere")
        return
    out = Table(title="cheap reward vs resolved (ROC AUC, Spearman)")
    for col in table.column_names:
        out.add_column(col)
    for row in table.to_pylist():
        out.add_row(row["stage"], row["config_hash"][:12], row["metric"], str(row["n"]),
                    str(row["positives"]),
                    *["" if row[k] is None else f"{row[k]:.3f}" for k in ("roc_auc", "spearman")])
    console.print(out)
