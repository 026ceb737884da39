"""Stage-quality report: one table per stage (rows: configs; columns: metrics as mean ± 95% CI
over instances), a PNG of the per-instance metric distributions, and, with `calibration`, how well
each cheap reward predicts resolution plus the fitted `predicted_resolved` model.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from rich.console import Console
from rich.table import Table

from swepipe.rewards.calibration import calibration_table, fit_predicted_resolved
from swepipe.store.sql_files import load_query
from swepipe.store.store import Store
from swepipe.types import STAGES


def summary(store: Store, stage: str | None = None) -> pa.Table:
    """(stage, config_hash, component, metric, n, mean, ci95) over per-instance rewards."""
    return store.query(load_query("rewards/report_summary"), {"stage": stage})


def _fmt(mean: float, ci: float | None) -> str:
    big = abs(mean) >= 100
    text = f"{mean:.0f}" if big else f"{mean:.3f}"
    if ci is not None:
        text += f" ± {ci:.0f}" if big else f" ± {ci:.3f}"
    return text


def print_summary(store: Store, console: Console | None = None, stage: str | None = None) -> int:
    """Print one table per stage; returns the number of (config, metric) cells shown."""
    console = console or Console(width=200)
    rows = summary(store, stage).to_pylist()
    if not rows:
        console.print("no rewards stored yet (run `swepipe rewards`)")
        return 0
    for st in STAGES:
        part = [r for r in rows if r["stage"] == st]
        if not part:
            continue
        metrics = sorted({r["metric"] for r in part})
        table = Table(title=f"{st}: mean ± 95% CI over instances (n = instances)")
        for col in ("config", "component", "n", *metrics):
            table.add_column(col)
        configs = dict.fromkeys((r["config_hash"], r["component"]) for r in part)
        for config, component in configs:
            cells = {r["metric"]: r for r in part if r["config_hash"] == config}
            n = max(c["n"] for c in cells.values())
            table.add_row(config[:12], component, str(n),
                          *[_fmt(cells[m]["mean"], cells[m]["ci95"]) if m in cells else ""
                            for m in metrics])
        console.print(table)
    return len(rows)


def plot_distributions(store: Store, path: str | Path, stage: str | None = None) -> Path:
    """A PNG with one panel per metric: box plots of per-instance values, one box per config."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = store.frame(load_query("rewards/instance_rewards"), {"stage": stage})
    keys = data.select("stage", "metric").unique(maintain_order=True).rows() if data.height \
        else []
    cols = 3
    n_rows = max(1, -(-len(keys) // cols))
    fig, axes = plt.subplots(n_rows, cols, figsize=(5 * cols, 3.2 * n_rows), squeeze=False)
    for ax in axes.flat[len(keys):]:
        ax.axis("off")
    for ax, (st, metric) in zip(axes.flat, keys):
        part = data.filter((data["stage"] == st) & (data["metric"] == metric))
        labels, values = [], []
        for (config, component), group in part.group_by(["config_hash", "component"],
                                                         maintain_order=True):
            labels.append(f"{component}\n{config[:8]}")
            values.append(group["value"].to_list())
        ax.boxplot(values, tick_labels=labels, showmeans=True)
        ax.set_title(f"{st}: {metric}", fontsize=9)
        ax.tick_params(axis="x", labelsize=6, rotation=30)
    if not keys:
        axes.flat[0].text(0.5, 0.5, "no rewards stored", ha="center")
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def print_calibration(store: Store, console: Console | None = None) -> None:
    """Fit `predicted_resolved`, then print AUC / Spearman of every cheap reward (it included)."""
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
