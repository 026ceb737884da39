"""The two real harness log folders: one command each, parity with the official `swebench`
grading, and every outcome metric behaving on imported verdicts as on swepipe's own runs."""

from __future__ import annotations

from pathlib import Path

from swepipe.cli import main
from swepipe.datasets.ingest import ingest_file
from swepipe.evaluation.importer import import_evaluation
from swepipe.evaluation.official import parity
from swepipe.rewards.compute import compute_rewards
from swepipe.rewards.predictions import import_predictions, inject_gold
from swepipe.store.codecs import to_rows
from swepipe.store.configs import config_row, register_configs
from swepipe.store.store import Store, insert_rows
from swepipe.store.writer import StageCommit, write_units
from swepipe.types import Selection

FOLDERS = ("auto-code-rover-run-1", "SWE-bench_check_harness")
OUTCOMES = ["resolved", "gold_pass_rate", "fail_to_pass_rate", "pass_to_pass_rate",
            "levenshtein_similarity"]


def _lite_store(path: Path, shared: Path) -> Store:
    store = Store(path, lock_timeout_s=20)
    for split in ("test", "dev"):
        ingest_file(store, shared / "swe-bench-lite" / f"{split}.jsonl")
    return store


def _logged_ids(folder: Path, store: Store) -> set[str]:
    held = {r["instance_id"] for r in store.query("SELECT instance_id FROM instances").to_pylist()}
    return {p.name.split(".")[0] for p in (folder / "logs").glob("*.eval.log")} & held


def test_both_folders_grade_as_the_official_package_does(shared_data, tmp_path, swebench_dir,
                                                         capsys):
    store = _lite_store(tmp_path / "s.duckdb", shared_data)
    for name in FOLDERS:
        folder = shared_data / "harness-logs" / name
        assert main(["--store", str(store.path), "import-evaluation", str(folder)]) == 0
        report = parity(store, folder, swebench_dir=swebench_dir)
        assert report.compared == len(_logged_ids(folder, store)) > 0
        assert report.equal == report.compared, report.differing
    assert "grades disagree with the harness's report" in capsys.readouterr().out
    # the SQL verdict on the candidates is exactly swepipe's grade
    compute_rewards(store, stage="generate", metrics=["resolved"])
    pairs = store.query(
        "SELECT v.graded_resolved, r.value FROM harness_verdicts v JOIN current_patches p "
        "ON p.instance_id = v.instance_id AND p.run_hash = v.patch_hash JOIN rewards r "
        "ON r.instance_id = p.instance_id AND r.config_hash = p.config_hash "
        "AND r.sample_idx = p.sample_idx AND r.metric = 'resolved'").to_pylist()
    assert len(pairs) == 249 + 19 and all(p["value"] == p["graded_resolved"] for p in pairs)


def _select_first(store: Store, generate_config: str) -> str:
    """A selection config over `generate_config` that picks each instance's candidate 0."""
    row = config_row("select", "test.first", "1", {}, {"generate": generate_config})
    cands = store.query("SELECT instance_id, any_value(diff) FILTER (WHERE sample_idx = 0) AS d, "
                        "any_value(i.content_hash) AS h FROM current_patches p JOIN instances i "
                        "USING (instance_id, revision) WHERE config_hash = $c GROUP BY 1",
                        {"c": generate_config}).to_pylist()
    units = [StageCommit(stage="select", config_hash=row["config_hash"],
                         instance_id=c["instance_id"], instance_hash=c["h"], status="done",
                         rows=to_rows("select", Selection(chosen_sample_idx=0, patch=c["d"],
                                                          method="first")))
             for c in cands]
    with store.transaction() as conn:
        register_configs(conn, [row])
        write_units(conn, units)
    return row["config_hash"]


def _rewards(store: Store) -> set[tuple]:
    rows = store.query("SELECT instance_id, stage, sample_idx, metric, round(value, 9) AS v "
                       "FROM rewards").to_pylist()
    return {tuple(r.values()) for r in rows}


def test_outcome_metrics_on_imported_verdicts_equal_those_on_own_runs(shared_data, tmp_path,
                                                                      capsys):
    folder = shared_data / "harness-logs" / FOLDERS[0]
    imported = _lite_store(tmp_path / "imported.duckdb", shared_data)
    import_evaluation(imported, folder)
    # the same candidates, with the same per-test outcomes written as swepipe's own runs
    own = _lite_store(tmp_path / "own.duckdb", shared_data)
    config = import_predictions(own, folder / "predictions.jsonl", FOLDERS[0]).config_hash
    rows = imported.query("SELECT instance_id, patch_hash, substr(test_kind, 10) AS test_kind, "
                          "test_id, status FROM test_runs").to_pylist()
    assert rows and {r["test_kind"] for r in rows} == {"fail_to_pass", "pass_to_pass"}
    with own.transaction() as conn:
        insert_rows(conn, "test_runs", rows)
    results = []
    for store in (imported, own):
        _select_first(store, config)  # selection_gain_vs_random: every candidate has `resolved`
        _select_first(store, inject_gold(store, config))  # gold_injection_accuracy
        compute_rewards(store, stage="generate", metrics=OUTCOMES)
        compute_rewards(store, stage="select",
                        metrics=["selection_gain_vs_random", "gold_injection_accuracy"])
        results.append(_rewards(store))
    assert results[0] == results[1]
    metrics = {r[3] for r in results[0]}
    assert set(OUTCOMES) | {"selection_gain_vs_random", "gold_injection_accuracy"} <= metrics
    assert main(["--store", str(imported.path), "report", "--calibration"]) == 0
    out = capsys.readouterr().out
    assert "cheap reward vs resolved" in out and "levenshtein_similarity" in out
