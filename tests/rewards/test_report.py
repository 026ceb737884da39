"""`swepipe report` (table, PNG, calibration) and the notebook, on the demo store."""

from __future__ import annotations

from pathlib import Path

import pytest

from swepipe.cli import main
from swepipe.rewards.calibration import roc_auc, spearman
from swepipe.rewards.compute import compute_rewards
from swepipe.rewards.demo import build_demo_store

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
    for word in ("localize", "generate", "select", "file_recall", "swe_rl_similarity",
                 "demo.oracle_hunks", "±"):
        assert word in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


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


def test_notebook_executes(tmp_path, lite_path, monkeypatch) -> None:
    import nbformat
    from nbclient import NotebookClient

    build_demo_store(tmp_path / "nb.duckdb", n_instances=6, data_file=lite_path)
    monkeypatch.setenv("SWEPIPE_NOTEBOOK_STORE", str(tmp_path / "nb.duckdb"))
    nb = nbformat.read(ROOT / "notebooks" / "stage_quality.ipynb", as_version=4)
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code"), \
        "commit the notebook with outputs stripped"
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    images = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if "image/png" in o.get("data", {})]
    assert len(images) == 2
