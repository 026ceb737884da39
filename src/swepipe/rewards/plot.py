"""`swepipe report --plot`: the stage-quality summary as a PNG.

Per stage, in pipeline order (localize, generate, select), one panel per metric; in each panel a
row per (dataset, config), labelled by component and short hash, with the mean over the dataset's
instances as a marker, its 95% interval as a line and n beside it. Rates sit on a fixed 0-1 axis
(gains on -1..1, token counts from 0) so that a small difference looks small; an interval that
runs past the end of the axis ends in an arrowhead; a config without a value for a metric says
"no value" rather than being drawn at 0. The numbers are the report's (`report.summary`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from swepipe.rewards.compute import in_metric_order, metric_scale
from swepipe.store.store import Store
from swepipe.types import STAGES

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

COLS = 4
"""Panels per figure row; a stage with more metrics continues on the next row."""
LIMITS = {"rate": (0.0, 1.0), "gain": (-1.0, 1.0)}
TICKS = {"rate": [0, 0.25, 0.5, 0.75, 1], "gain": [-1, -0.5, 0, 0.5, 1]}
MARKERS = "osD^vP*X"
ROW_IN = 0.3
"""Height of one (dataset, config) row, inches."""
PAD = 0.04
"""Margin beyond each end of the axis range (share of it), so a mean at 0 or 1 is not drawn on
the frame."""

Key = tuple[str, str, str]
"""(dataset, component, config_hash): one row of a panel."""


def _limits(scale: str, cells: list[dict[str, Any]]) -> tuple[float, float]:
    if scale in LIMITS:
        return LIMITS[scale]
    top = max((c["mean"] + (c["ci95"] or 0) for c in cells), default=1.0)
    return 0.0, max(top, 1.0) * 1.1


def _panel(ax: Axes, stage: str, metric: str, keys: list[Key], cells: dict[Key, dict[str, Any]],
           style: dict[str, tuple[str, str]]) -> bool:
    """Draw one metric; returns whether an interval was truncated at the axis."""
    scale = metric_scale(metric)
    lo_lim, hi_lim = _limits(scale, list(cells.values()))
    truncated = False
    for y, key in enumerate(keys):
        cell = cells.get(key)
        if cell is None:
            ax.text((lo_lim + hi_lim) / 2, y, "no value", ha="center", va="center", fontsize=7,
                    color="0.45", style="italic")
            continue
        color, marker = style[key[0]]
        mean, ci = cell["mean"], cell["ci95"]
        if ci is not None:
            lo, hi = max(mean - ci, lo_lim), min(mean + ci, hi_lim)
            ax.hlines(y, lo, hi, color=color, lw=1.6)
            for end, past, head in ((lo, mean - ci < lo_lim, "<"), (hi, mean + ci > hi_lim, ">")):
                ax.plot(end, y, marker=head if past else "|", color=color, ms=6 if past else 7)
                truncated |= past
        ax.plot(mean, y, marker=marker, color=color, ms=6.5, zorder=3, markeredgecolor="white",
                markeredgewidth=0.6)
        ax.annotate(f"n={cell['n']}", xy=(1, y), xycoords=("axes fraction", "data"),
                    xytext=(5, 0), textcoords="offset points", va="center", fontsize=7,
                    color="0.3")
    pad = PAD * (hi_lim - lo_lim)
    ax.set_xlim(lo_lim - pad if scale in LIMITS else lo_lim, hi_lim + pad)
    if scale in TICKS:
        ax.set_xticks(TICKS[scale], [f"{t:g}" for t in TICKS[scale]])
    if scale == "gain":
        ax.axvline(0, color="0.6", lw=0.8, zorder=0)
    ax.tick_params(axis="x", labelsize=8)
    ax.grid(axis="x", color="0.9", lw=0.6)
    ax.set_axisbelow(True)
    # a thin rule between the datasets' groups of rows
    for y in range(1, len(keys)):
        if keys[y][0] != keys[y - 1][0]:
            ax.axhline(y - 0.5, color="0.75", lw=0.8)
    ax.set_title(f"{stage}: {metric}", fontsize=9, loc="left")
    ax.set_xlabel({"gain": "gain (difference of rates)", "count": "tokens"}.get(scale, "rate"),
                  fontsize=7, color="0.35")
    return truncated


def quality_figure(rows: Sequence[dict[str, Any]], *, stage: str | None = None,
                   metrics: Sequence[str] | None = None, title: str | None = None) -> Figure:
    """The figure of `report.summary` rows: every stage present (or `stage`), every metric (or
    `metrics`, in that order)."""
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    rows = [r for r in rows if (stage is None or r["stage"] == stage)
            and (metrics is None or r["metric"] in metrics)]
    datasets = sorted({r["dataset"] for r in rows})
    style = {d: (f"C{i % 10}", MARKERS[i % len(MARKERS)]) for i, d in enumerate(datasets)}
    blocks: list[tuple[str, list[str], list[Key]]] = []  # (stage, metrics of one figure row, keys)
    for st in STAGES:
        part = [r for r in rows if r["stage"] == st]
        if not part:
            continue
        names = [m for m in metrics if any(r["metric"] == m for r in part)] if metrics \
            else in_metric_order({r["metric"] for r in part})
        keys = sorted({(r["dataset"], r["component"], r["config_hash"]) for r in part})
        blocks += [(st, names[i:i + COLS], keys) for i in range(0, len(names), COLS)]
    cols = min(COLS, max((len(b[1]) for b in blocks), default=1))
    heights = [ROW_IN * len(keys) + 1.1 for _, _, keys in blocks] or [1.5]
    fig = Figure(figsize=(2.6 + 2.9 * cols, sum(heights) + 1.0), dpi=120, layout="constrained")
    title = title or "Stage quality: mean and 95% interval over each dataset's instances"
    if not blocks:
        fig.text(0.5, 0.5, f"{title}\n\nno rewards stored (run `swepipe rewards`)", ha="center")
        return fig
    truncated = False
    # one grid for all stages, so the panels of a column line up from stage to stage
    grid = fig.add_gridspec(len(blocks), cols, height_ratios=heights)
    for row, (st, names, keys) in enumerate(blocks):
        first = fig.add_subplot(grid[row, 0])
        for col, metric in enumerate(names):
            ax = first if col == 0 else fig.add_subplot(grid[row, col], sharey=first)
            ax.tick_params(axis="y", labelleft=col == 0, length=0 if col else 3.5)
            cells = {(r["dataset"], r["component"], r["config_hash"]): r
                     for r in rows if r["stage"] == st and r["metric"] == metric}
            truncated |= _panel(ax, st, metric, keys, cells, style)
        first.set_yticks(range(len(keys)), [f"{comp}  {h[:8]}" for _, comp, h in keys],
                         fontsize=8)
        first.set_ylim(len(keys) - 0.5, -0.5)  # first row on top
        for label, (ds, _, _) in zip(first.get_yticklabels(), keys):
            label.set_color(style[ds][0])
    handles = [Line2D([], [], color=style[d][0], marker=style[d][1], ls="", ms=6.5,
                      label=f"mean on {d}") for d in datasets]
    handles.append(Line2D([], [], color="0.3", marker="|", ms=7, lw=1.6,
                          label="95% interval (n = instances with a value)"))
    if truncated:
        handles.append(Line2D([], [], color="0.3", marker=">", ms=6, ls="",
                              label="interval runs past the axis"))
    # the title heads the legend: a separate suptitle would share (and overlap) its band
    fig.legend(handles=handles, loc="outside upper center", ncols=len(handles), fontsize=8,
               frameon=False, title=title, title_fontproperties={"size": 11})
    return fig


def plot_summary(store: Store, path: str | Path, stage: str | None = None,
                 dataset: str | None = None) -> Path:
    """Write the stage-quality PNG of `store` to `path`; returns the path."""
    from swepipe.rewards.report import summary

    fig = quality_figure(summary(store, stage, dataset).to_pylist())
    path = Path(path)
    fig.savefig(path)
    return path
