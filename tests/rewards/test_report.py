"""`swepipe report` (tables per dataset, PNG, calibration) and the notebook, on the demo store."""

from __future__ import annotations

from pathlib import Path

import pytest

from rich.console import Console

from swepipe.cli import main
from swepipe.datasets.ingest import ingest_instances, parse_file
from swepipe.rewards.calibration import roc_auc, spearman
from swepipe.rewards.compute import compute_rewards
from swepipe.rewards.demo import build_demo_store
from swepipe.rewards.report import print_summary, summary

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo(tmp_path, lite_path):
    store = build_demo_store(tmp_path / "demo.duckdb", n_instances=8, data_file=lite_path)
    compute_rewards(store)
    return store


def test_report_prints_tables_and_writes_png(demo, tmp_path, capsys) -> None:
    png = tmp_path / "dist.png"
    assert main(["--store", str(demo.path), "report", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    for word in ("dataset", "localize", "generate", "select", "file_recall", "swe_rl_similarity",
                 "demo.oracle_hunks", "±"):
        assert word in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def two_datasets(demo, lite_path):
    """The demo store (dataset `demo`, 8 instances) plus a dataset `subset` holding 2 of them."""
    instances = [i for i, _ in parse_file(lite_path)][:2]
    ingest_instances(demo, instances, "subset", str(lite_path))
    return demo


def test_tables_keep_datasets_apart_with_their_own_n(two_datasets) -> None:
    rows = summary(two_datasets, "localize").to_pylist()
    n = {(r["dataset"], r["component"]): r["n"] for r in rows if r["metric"] == "file_recall"}
    assert n == {(d, f"demo.{c}"): 8 if d == "demo" else 2
                 for d in ("demo", "subset") for c in ("noisy", "oracle_files", "oracle_hunks")}
    console = Console(width=250, record=True)
    print_summary(two_datasets, console=console, stage="localize")
    lines = [ln for ln in console.export_text().splitlines() if "demo." in ln]
    assert len(lines) == 6
    # every config row says which dataset it is over, and its n is that dataset's
    assert [ln.split("│")[1].strip() for ln in lines] == ["demo"] * 3 + ["subset"] * 3
    assert [ln.split("│")[4].strip() for ln in lines] == ["8"] * 3 + ["2"] * 3


def test_report_dataset_filter_and_unknown_dataset(two_datasets, capsys) -> None:
    assert main(["--store", str(two_datasets.path), "report", "--dataset", "subset"]) == 0
    out = capsys.readouterr().out
    rows = [ln for ln in out.splitlines() if "demo." in ln]
    assert rows and all("subset" in ln and "│ demo " not in ln for ln in rows)
    assert main(["--store", str(two_datasets.path), "report", "--dataset", "verified"]) == 2
    err = capsys.readouterr().err
    assert "unknown dataset 'verified' (known: demo, subset)" in err and "dataset" in err


def test_a_metric_undefined_on_some_instances_shows_its_own_n(demo) -> None:
    config = demo.query("SELECT config_hash FROM configs WHERE component = 'demo.noisy'"
                        ).column("config_hash")[0].as_py()
    demo.query("DELETE FROM rewards WHERE metric = 'line_recall' AND config_hash = $c AND "
               "instance_id IN (SELECT instance_id FROM instances ORDER BY 1 LIMIT 3)",
               {"c": config})
    console = Console(width=250, record=True)
    print_summary(demo, console=console, stage="localize")
    line = next(ln for ln in console.export_text().splitlines() if "demo.noisy" in ln)
    cells = [c.strip() for c in line.split("│")]
    assert cells[4] == "8" and sum("(n=5)" in c for c in cells) == 1


def test_calibration_fits_and_stores_predicted_resolved(demo, capsys) -> None:
    assert main(["--store", str(demo.path), "report", "--calibration"]) == 0
    out = capsys.readouterr().out
    assert "roc_auc" in out and "predicted_resolved: logistic" in out
    fit = demo.query("SELECT n_train, auc FROM reward_models").to_pylist()
    assert len(fit) == 1 and fit[0]["n_train"] > 0 and fit[0]["auc"] > 0.5
    n = demo.query("SELECT count(*) AS n FROM rewards WHERE metric = 'predicted_resolved' "
                   "AND value BETWEEN 0 AND 1").column("n")[0].as_py()
    assert n > 0


def test_auc_and_spearman_hand_values() -> None:
    import numpy as np

    # positives 0.9, 0.4; negatives 0.4, 0.1: pairs won 1 + 1 + 0.5 (tie) + 1 of 4
    assert roc_auc(np.array([0.9, 0.4, 0.4, 0.1]), np.array([1, 1, 0, 0])) == 3.5 / 4
    assert roc_auc(np.array([0.1, 0.2]), np.array([1, 1])) is None
    assert spearman(np.array([1.0, 2, 3, 4]), np.array([10.0, 20, 30, 40])) == pytest.approx(1)


def test_rewards_reach_the_model_calls_that_earned_them(demo) -> None:
    from swepipe.store.sequences import sequence_rows
    from swepipe.store.store import insert_rows
    from swepipe.types import Message, SamplingParams

    row = demo.query("SELECT instance_id, config_hash FROM rewards WHERE stage = 'generate' "
                     "AND metric = 'swe_rl_similarity' AND sample_idx = 1 LIMIT 1").to_pylist()[0]
    seq, contents = sequence_rows(model="m", messages=[Message(role="user", content="fix")],
                                  params=SamplingParams(), sample_idx=1, stage="generate",
                                  **row)
    with demo.transaction() as conn:
        insert_rows(conn, "contents", contents, ignore_existing=True)
        insert_rows(conn, "sequences", [seq])
    got = demo.query("SELECT level, metric FROM sequence_rewards WHERE sequence_id = $s AND "
                     "metric = 'swe_rl_similarity' ORDER BY level",
                     {"s": seq["sequence_id"]}).to_pylist()
    assert got == [{"level": "instance", "metric": "swe_rl_similarity"},
                   {"level": "sample", "metric": "swe_rl_similarity"}]


def _run_notebook(cwd: Path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "notebooks" / "stage_quality.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
        "commit the notebook with outputs stripped"
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(cwd)}}).execute()
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]


def test_notebook_reads_the_store_of_swepipe_store(tmp_path, lite_path, monkeypatch) -> None:
    store = build_demo_store(tmp_path / "nb.duckdb", n_instances=6, data_file=lite_path)
    compute_rewards(store)
    monkeypatch.setenv("SWEPIPE_STORE", str(store.path))
    # the old, undocumented variable is ignored
    monkeypatch.setenv("SWEPIPE_NOTEBOOK_STORE", str(tmp_path / "other.duckdb"))
    cwd = tmp_path / "elsewhere"  # the kernel's ./swepipe.duckdb is not the store
    cwd.mkdir()
    outputs = _run_notebook(cwd)
    text = "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")
    assert f"store: {store.path.resolve()}" in text and not (tmp_path / "other.duckdb").exists()
    table = next(o["data"]["text/plain"] for o in outputs
                 if "shape:" in o.get("data", {}).get("text/plain", ""))
    assert f"shape: ({summary(store).num_rows}, 8)" in table and "dataset" in table
    assert sum("image/png" in o.get("data", {}) for o in outputs) == 2


def test_notebook_without_a_store_fails_and_builds_none(tmp_path, monkeypatch) -> None:
    from nbclient.exceptions import CellExecutionError

    missing = tmp_path / "missing.duckdb"
    monkeypatch.setenv("SWEPIPE_STORE", str(missing))
    with pytest.raises(CellExecutionError, match="no store at .*missing.duckdb: set SWEPIPE_STORE"):
        _run_notebook(tmp_path)
    assert not missing.exists() and not list(tmp_path.glob("*.duckdb"))


def test_instances_of_no_dataset_count_under_none(demo) -> None:
    first = demo.query("SELECT min(instance_id) AS i FROM dataset_instances").column("i")[0]
    demo.query("DELETE FROM dataset_instances WHERE instance_id = $i", {"i": first.as_py()})
    rows = summary(demo, "localize", "(none)").to_pylist()
    assert rows and {(r["dataset"], r["n"]) for r in rows} == {("(none)", 1)}
    rest = summary(demo, "localize", "demo").to_pylist()
    assert {r["n"] for r in rest if r["metric"] == "file_recall"} == {7}
