"""`report --plot`: the figure's structure (axes, order, labels, missing values) on a demo store."""

from __future__ import annotations

import pytest

from swepipe.cli import main
from swepipe.datasets.ingest import ingest_instances, parse_file
from swepipe.rewards.compute import compute_rewards
from swepipe.rewards.demo import build_demo_store
from swepipe.rewards.plot import PAD, quality_figure
from swepipe.rewards.report import summary
from swepipe.store.store import Store
from swepipe.types import STAGES


@pytest.fixture
def demo(tmp_path, lite_path):
    store = build_demo_store(tmp_path / "demo.duckdb", n_instances=8, data_file=lite_path)
    ingest_instances(store, [i for i, _ in parse_file(lite_path)][:2], "subset", str(lite_path))
    compute_rewards(store)
    return store


def _panels(fig):
    """{title: axes} of the visible panels, in drawing order."""
    return {ax.get_title(loc="left"): ax for ax in fig.axes if ax.get_visible()}


def test_rates_on_a_fixed_axis_in_stage_order(demo) -> None:
    rows = summary(demo).to_pylist()
    panels = _panels(quality_figure(rows))
    stages = [t.split(": ")[0] for t in panels]
    assert stages == sorted(stages, key=STAGES.index) and set(stages) == set(STAGES)
    # every (stage, metric) of the report has its panel
    assert set(panels) == {f"{r['stage']}: {r['metric']}" for r in rows}
    for title, ax in panels.items():
        lo, hi = (-1, 1) if "selection_gain" in title else (0, 1)
        pad = PAD * (hi - lo)
        assert ax.get_xlim() == pytest.approx((lo - pad, hi + pad)), title
        assert list(ax.get_xticks()) == pytest.approx([lo, lo + (hi - lo) / 4, (lo + hi) / 2,
                                                       hi - (hi - lo) / 4, hi])
    # a 0.84-0.89 spread stays small: the axis does not follow the data
    close = [{**r, "mean": m, "ci95": 0.01} for r, m in zip(rows[:2], (0.84, 0.89))]
    ax = next(iter(_panels(quality_figure(close)).values()))
    assert ax.get_xlim() == pytest.approx((-PAD, 1 + PAD))


def test_rows_are_labelled_by_component_hash_and_dataset(demo) -> None:
    rows = summary(demo, "localize").to_pylist()
    fig = quality_figure(rows)
    first = fig.axes[0]
    labels = [t.get_text() for t in first.get_yticklabels()]
    configs = sorted({(r["dataset"], r["component"], r["config_hash"]) for r in rows})
    assert labels == [f"{comp}  {h[:8]}" for _, comp, h in configs]
    assert len(labels) == 6  # 3 configs x 2 datasets, never merged
    # the datasets tell apart by colour, named in the legend with each mean marker
    colours = {t.get_text(): t.get_color() for t in first.get_yticklabels()}
    assert len(set(t.get_color() for t in first.get_yticklabels())) == 2 and colours
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:2] == ["mean on demo", "mean on subset"]
    assert "95% interval (n = instances with a value)" in legend
    # n per config is written beside each mean
    notes = sorted(t.get_text() for t in first.texts if t.get_text().startswith("n="))
    assert notes == ["n=2"] * 3 + ["n=8"] * 3


def test_missing_values_say_so_and_are_not_drawn_at_zero(demo) -> None:
    config = demo.query("SELECT config_hash FROM configs WHERE component = 'demo.noisy'"
                        ).column("config_hash")[0].as_py()
    demo.query("DELETE FROM rewards WHERE metric = 'line_recall' AND config_hash = $c",
               {"c": config})
    rows = summary(demo, "localize", "demo").to_pylist()
    fig = quality_figure(rows)
    ax = _panels(fig)["localize: line_recall"]
    assert ax.get_shared_y_axes().joined(ax, fig.axes[0])  # same rows as the labelled panel
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    y = labels.index(f"demo.noisy  {config[:8]}")
    assert [t.get_position()[1] for t in ax.texts if t.get_text() == "no value"] == [y]
    drawn_at_y = [line for line in ax.lines if y in list(line.get_ydata())]
    assert drawn_at_y == []
    others = [line for line in ax.lines if list(line.get_ydata()) != [y]]
    assert others  # the other configs are drawn


def test_an_interval_past_the_axis_is_truncated_with_an_arrowhead() -> None:
    row = {"dataset": "d", "stage": "localize", "config_hash": "ab" * 32, "component": "c",
           "metric": "file_recall", "n": 7, "mean": 0.857, "ci95": 0.28}
    fig = quality_figure([row])
    ax = fig.axes[0]
    segments = ax.collections[0].get_segments()
    assert [tuple(p) for p in segments[0]] == [(pytest.approx(0.577), 0), (1.0, 0)]
    assert [line.get_marker() for line in ax.lines][:2] == ["|", ">"]
    assert "interval runs past the axis" in [t.get_text() for t in fig.legends[0].get_texts()]


def test_report_plot_writes_a_png_and_an_empty_store_says_so(demo, tmp_path) -> None:
    png = tmp_path / "q.png"
    assert main(["--store", str(demo.path), "report", "--plot", str(png), "--stage",
                 "select"]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    empty = Store(tmp_path / "empty.duckdb")
    fig = quality_figure(summary(empty).to_pylist())
    assert "no rewards stored" in fig.texts[0].get_text()
