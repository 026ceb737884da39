"""`import-evaluation` on each input shape: candidates, per-test rows, verdicts, idempotence."""

from __future__ import annotations

import json

import pytest

from swepipe.cli import main
from swepipe.errors import InputError
from swepipe.evaluation.importer import import_evaluation
from swepipe.rewards.compute import compute_rewards
from swepipe.rewards.predictions import import_predictions

from .conftest import BAD, GOOD, IDS, MODEL, legacy_folder, log_tree, patch_of, write_predictions

TABLES = ("configs", "stage_runs", "patches", "test_runs", "harness_verdicts", "legacy_imports")


def _counts(store) -> dict[str, int]:
    return {t: store.query(f"SELECT count(*) AS n FROM {t}").to_pylist()[0]["n"] for t in TABLES}


def _verdicts(store) -> dict[str, dict]:
    rows = store.query("SELECT * FROM harness_verdicts ORDER BY instance_id").to_pylist()
    return {r["instance_id"]: r for r in rows}


def _resolved(store) -> dict[str, float]:
    compute_rewards(store, stage="generate", metrics=["resolved"])
    rows = store.query("SELECT instance_id, value FROM rewards WHERE metric = 'resolved' "
                       "AND sample_idx = 0").to_pylist()
    return {r["instance_id"]: r["value"] for r in rows}


def test_log_tree_patches_become_candidates_graded_per_test(graded_store, tmp_path, capsys):
    logs = log_tree(tmp_path, {IDS[0]: GOOD, IDS[1]: BAD, IDS[2]: BAD},
                    {IDS[0]: True, IDS[1]: False, IDS[2]: True})
    assert main(["--store", str(graded_store.path), "import-evaluation", str(logs)]) == 0
    out = capsys.readouterr().out
    assert "run1 (log_tree): 3 verdicts (3 new)" in out
    assert f"1 grades disagree with the harness's report:\n    {IDS[2]}: harness resolved, " \
           f"swepipe unresolved: 1 of the store's tests do not succeed (t.py::test_fix)" in out
    rows = graded_store.query(
        "SELECT test_kind, test_id, status, executor FROM test_runs WHERE instance_id = $i "
        "ORDER BY test_id", {"i": IDS[0]}).to_pylist()
    assert [(r["test_kind"], r["status"]) for r in rows] == [
        ("swebench_fail_to_pass", "passed"), ("swebench_pass_to_pass", "passed"),
        ("swebench_pass_to_pass", "skipped")]
    assert {r["executor"] for r in rows} == {"swebench-harness"}
    v = _verdicts(graded_store)
    assert (v[IDS[2]]["harness_resolved"], v[IDS[2]]["graded_resolved"]) == (True, False)
    assert v[IDS[0]]["model"] == MODEL and v[IDS[0]]["format"] == "log_tree"
    # the SQL verdict on the new candidates is swepipe's grade, not the report's
    assert _resolved(graded_store) == {IDS[0]: 1.0, IDS[1]: 0.0, IDS[2]: 0.0}


def test_importing_twice_changes_nothing(graded_store, tmp_path):
    logs = log_tree(tmp_path, {IDS[0]: GOOD, IDS[1]: BAD}, {IDS[0]: True, IDS[1]: False})
    first = import_evaluation(graded_store, logs)
    before = _counts(graded_store)
    again = import_evaluation(graded_store, logs)
    assert _counts(graded_store) == before
    assert (first.new_verdicts, again.new_verdicts, again.new_test_rows) == (2, 0, 0)


def test_verdicts_attach_to_candidates_imported_from_the_same_predictions(graded_store,
                                                                         tmp_path):
    preds = import_predictions(graded_store, write_predictions(tmp_path / "p.jsonl"), "mine")
    logs = log_tree(tmp_path, {IDS[0]: GOOD, IDS[1]: BAD}, {IDS[0]: True, IDS[1]: False},
                    with_patch=False)
    import_evaluation(graded_store, logs)
    configs = graded_store.query("SELECT config_hash FROM configs").to_pylist()
    assert [c["config_hash"] for c in configs] == [preds.config_hash]  # no new candidate set
    assert _resolved(graded_store) == {IDS[0]: 1.0, IDS[1]: 0.0}


def test_predictions_given_to_both_imports_under_one_name_are_one_candidate_set(graded_store,
                                                                               tmp_path):
    from swepipe.hashing import file_checksum

    path = write_predictions(tmp_path / "p.jsonl")
    preds = import_predictions(graded_store, path, "run7")
    summary = tmp_path / "acme__coder-7b.run7.json"
    summary.write_text(json.dumps({"resolved_ids": [IDS[0]], "completed_ids": [IDS[0]]}))
    import_evaluation(graded_store, summary, predictions=path)
    # the file is known by one checksum, so the second import adds no config and no import row
    configs = graded_store.query("SELECT config_hash, params FROM configs").to_pylist()
    assert [c["config_hash"] for c in configs] == [preds.config_hash]
    assert json.loads(configs[0]["params"])["sha256"] == file_checksum(path)
    assert graded_store.query("SELECT checksum FROM legacy_imports").column(
        "checksum").to_pylist() == [file_checksum(path)]


def test_a_candidate_of_another_model_is_not_matched(graded_store, tmp_path):
    import_predictions(graded_store, write_predictions(tmp_path / "p.jsonl", model="other"),
                       "theirs")
    logs = log_tree(tmp_path, {IDS[0]: GOOD}, {IDS[0]: True}, with_patch=False)
    report = import_evaluation(graded_store, logs)
    assert report.no_candidate == [IDS[0]] and report.verdicts == 0
    assert "1 verdicts without a candidate (give --predictions)" in str(report)


def test_run_summary_with_predictions_gives_verdict_only_resolved(graded_store, tmp_path):
    summary = tmp_path / "acme__coder-7b.run7.json"
    summary.write_text(json.dumps({"resolved_ids": [IDS[0]], "unresolved_ids": [IDS[1]],
                                   "error_ids": [IDS[2]], "completed_ids": list(IDS)}))
    report = import_evaluation(graded_store, summary,
                               predictions=write_predictions(tmp_path / "p.jsonl"))
    assert (report.name, report.format, report.graded) == ("run7", "run_summary", 0)
    assert {k: v["harness_status"] for k, v in _verdicts(graded_store).items()} == {
        IDS[0]: "resolved", IDS[1]: "unresolved", IDS[2]: "error"}
    assert _verdicts(graded_store)[IDS[0]]["model"] == MODEL
    assert _resolved(graded_store) == {IDS[0]: 1.0, IDS[1]: 0.0, IDS[2]: 0.0}
    compute_rewards(graded_store, stage="generate", metrics=["gold_pass_rate"])
    assert graded_store.query("SELECT count(*) AS n FROM rewards WHERE metric = "
                              "'gold_pass_rate'").to_pylist()[0]["n"] == 0  # no test output


def test_leaderboard_results_count_the_rest_of_the_dataset_unresolved(graded_store, tmp_path):
    sub = tmp_path / "20240101_acme"
    (sub / "results").mkdir(parents=True)
    (sub / "results" / "results.json").write_text(json.dumps(
        {"resolved": [IDS[0]], "no_generation": [IDS[1]], "no_logs": []}))
    write_predictions(sub / "all_preds.jsonl", ids=[IDS[0], IDS[2]])
    report = import_evaluation(graded_store, sub)
    assert (report.name, report.format) == ("20240101_acme", "leaderboard")
    v = _verdicts(graded_store)
    assert {k: (x["harness_status"], x["harness_resolved"]) for k, x in v.items()} == {
        IDS[0]: ("resolved", True), IDS[1]: ("no_generation", False),
        IDS[2]: ("unresolved", False)}
    assert v[IDS[1]]["patch_hash"] == ""  # no generation: an empty candidate
    assert _resolved(graded_store) == {IDS[0]: 1.0, IDS[1]: 0.0, IDS[2]: 0.0}


def test_leaderboard_rest_needs_a_dataset_when_several_hold_the_ids(graded_store, tmp_path):
    from swepipe.datasets.ingest import load_instances, ingest_instances

    ingest_instances(graded_store, load_instances(graded_store, "lite"), "copy", "test")
    results = tmp_path / "results" / "results.json"
    results.parent.mkdir()
    results.write_text(json.dumps({"resolved": [IDS[0]]}))
    with pytest.raises(InputError, match="give --dataset"):
        import_evaluation(graded_store, results)
    assert _counts(graded_store)["harness_verdicts"] == 0  # nothing half-written
    write_predictions(tmp_path / "all_preds.jsonl")
    assert import_evaluation(graded_store, results, dataset="copy").verdicts == 3


def test_legacy_folder_grades_each_log_with_its_report(graded_store, tmp_path):
    folder = legacy_folder(tmp_path / "acme-run", {IDS[0]: GOOD, IDS[1]: BAD,
                                                   IDS[2]: "APPLY FAILED"},
                           {"generated": list(IDS), "applied": [IDS[0], IDS[1]],
                            "no_apply": [IDS[2]], "resolved": [IDS[0]]})
    report = import_evaluation(graded_store, folder)
    assert (report.name, report.format, report.graded, report.disagreements) == (
        "acme-run", "legacy_logs", 3, [])
    v = _verdicts(graded_store)
    assert v[IDS[2]]["harness_status"] == "no_apply"
    assert v[IDS[2]]["reason"] == "Patch Apply Failed"
    errors = graded_store.query("SELECT DISTINCT status, output FROM test_runs WHERE "
                                "instance_id = $i", {"i": IDS[2]}).to_pylist()
    assert errors == [{"status": "error", "output": "Patch Apply Failed"}]
    assert _resolved(graded_store) == {IDS[0]: 1.0, IDS[1]: 0.0, IDS[2]: 0.0}


def test_a_legacy_report_given_alone_gives_verdicts_on_its_predictions(graded_store, tmp_path):
    folder = legacy_folder(tmp_path / "acme-run", {IDS[0]: GOOD},
                           {"generated": list(IDS), "applied": list(IDS), "resolved": [IDS[0]]})
    report = import_evaluation(graded_store, folder / "report.json")
    assert (report.name, report.format, report.graded) == ("acme-run", "legacy_report", 0)
    assert {k: (v["harness_status"], v["graded_resolved"])
            for k, v in _verdicts(graded_store).items()} == {
        IDS[0]: ("resolved", None), IDS[1]: ("unresolved", None), IDS[2]: ("unresolved", None)}
    assert _resolved(graded_store) == {IDS[0]: 1.0, IDS[1]: 0.0, IDS[2]: 0.0}


def test_instances_the_store_does_not_hold_are_counted(graded_store, tmp_path):
    logs = log_tree(tmp_path, {IDS[0]: GOOD, "acme__other-9": GOOD}, {})
    report = import_evaluation(graded_store, logs)
    assert report.unknown_instances == ["acme__other-9"] and report.verdicts == 1
    assert _verdicts(graded_store)[IDS[0]]["harness_resolved"] is None  # no report.json


@pytest.mark.parametrize("content, message", [
    ("{\"resolved_ids\": \"x\"}", "expected a list of instance ids (field 'resolved_ids')"),
    ("{\"something\": 1}", "not a harness run summary"),
    ("{\"resolved\": [\n1", "not JSON"),
])
def test_bad_inputs_are_one_line_errors_naming_the_file(graded_store, tmp_path, capsys,
                                                        content, message):
    bad = tmp_path / "run.x.json"
    bad.write_text(content)
    assert main(["--store", str(graded_store.path), "import-evaluation", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"swepipe: error: {bad}") and message in err and err.count("\n") == 1


def test_missing_path_and_empty_folder_are_errors(graded_store, tmp_path):
    with pytest.raises(InputError, match="no such file"):
        import_evaluation(graded_store, tmp_path / "nope")
    with pytest.raises(InputError, match="no harness results here"):
        import_evaluation(graded_store, tmp_path)
    logs = log_tree(tmp_path, {IDS[0]: GOOD}, {IDS[0]: True})
    with pytest.raises(InputError, match="nope.jsonl: no such predictions file"):
        import_evaluation(graded_store, logs, predictions=tmp_path / "nope.jsonl")


def test_an_unknown_dataset_is_an_error_not_an_empty_import(graded_store, tmp_path, capsys):
    logs = log_tree(tmp_path, {IDS[0]: GOOD}, {IDS[0]: True})
    assert main(["--store", str(graded_store.path), "import-evaluation", str(logs),
                 "--dataset", "nope"]) == 2
    assert capsys.readouterr().err == ("swepipe: error: unknown dataset 'nope' (known: lite) "
                                       "(field 'dataset')\n")
    assert set(_counts(graded_store).values()) == {0}
    assert import_evaluation(graded_store, logs, dataset="lite").verdicts == 1


@pytest.mark.parametrize("report, message", [
    ({"psf__requests-9": {"resolved": True}}, "no entry for psf__requests-1"),
    ("{broken", "not JSON"),
])
def test_a_bad_report_in_a_log_tree_names_it_and_loses_nothing(graded_store, tmp_path,
                                                               report, message):
    logs = log_tree(tmp_path, {IDS[0]: GOOD, IDS[1]: GOOD}, {IDS[0]: True, IDS[1]: True})
    bad = next(logs.rglob(f"{IDS[0]}/report.json"))
    bad.write_text(report if isinstance(report, str) else json.dumps(report))
    with pytest.raises(InputError, match=rf"{bad}(:1)?: {message}"):
        import_evaluation(graded_store, logs)
    assert set(_counts(graded_store).values()) == {0}


def test_a_legacy_report_that_is_not_an_object_is_an_error_naming_it(graded_store, tmp_path):
    folder = legacy_folder(tmp_path / "acme-run", {IDS[0]: GOOD}, {"resolved": [IDS[0]]})
    (folder / "report.json").write_text("[1, 2]")
    with pytest.raises(InputError, match=rf"{folder / 'report.json'}: expected a JSON object"):
        import_evaluation(graded_store, folder)
    assert set(_counts(graded_store).values()) == {0}


def test_a_bad_predictions_file_loses_nothing(graded_store, tmp_path):
    logs = log_tree(tmp_path, {IDS[0]: GOOD}, {IDS[0]: True}, with_patch=False)
    bad = tmp_path / "p.jsonl"
    bad.write_text(json.dumps({"instance_id": IDS[0], "model_patch": patch_of(IDS[0])})
                   + "\n{broken\n")
    with pytest.raises(InputError, match=r"p.jsonl:2: not JSON"):
        import_evaluation(graded_store, logs, predictions=bad)
    assert set(_counts(graded_store).values()) == {0}


def test_a_bundled_predictions_file_already_imported_adds_no_candidate_set(graded_store,
                                                                          tmp_path):
    folder = legacy_folder(tmp_path / "acme-run", {IDS[0]: GOOD}, {"resolved": [IDS[0]]})
    import_predictions(graded_store, folder / "predictions.jsonl", "acme predictions")
    configs = _counts(graded_store)["configs"]
    assert import_evaluation(graded_store, folder).verdicts == 1
    assert _counts(graded_store)["configs"] == configs


def test_an_instance_of_a_repository_without_a_parser_is_a_clear_error(store, tmp_path):
    from swepipe.datasets.ingest import ingest_instances
    from swepipe.types import Instance

    ingest_instances(store, [Instance(instance_id="acme__tool-1", repo="acme/tool",
                                      base_commit="0" * 40, problem_statement="p",
                                      fail_to_pass=["t"])], "other", "test")
    logs = log_tree(tmp_path, {"acme__tool-1": GOOD}, {})
    with pytest.raises(InputError, match="no SWE-bench log parser for repository 'acme/tool'"):
        import_evaluation(store, logs)
    assert _counts(store)["harness_verdicts"] == 0


def test_a_disagreement_from_other_test_lists_names_them(graded_store, tmp_path):
    skip_fails = GOOD.replace("SKIPPED t.py::test_skip", "FAILED t.py::test_skip")
    status = {"FAIL_TO_PASS": {"success": ["t.py::test_fix"], "failure": []},
              "PASS_TO_PASS": {"success": ["t.py::test_old", "t.py::test_new"], "failure": []}}
    logs = log_tree(tmp_path, {IDS[0]: skip_fails}, {IDS[0]: True},
                    tests_status={IDS[0]: status})
    (d,) = import_evaluation(graded_store, logs).disagreements
    assert (d.instance_id, d.harness_resolved, d.graded_resolved) == (IDS[0], True, False)
    assert d.cause == ("the report graded other test lists: 1 tests not in the store's "
                       "(t.py::test_new), 1 of the store's missing (t.py::test_skip)")
    assert _verdicts(graded_store)[IDS[0]]["reason"] == d.cause
