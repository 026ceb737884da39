"""Agentless caches built from the documented field lists round-trip into the store."""

from __future__ import annotations

import json
from pathlib import Path

from swepipe.datasets.ingest import ingest_file
from swepipe.migrate import migrate_agentless
from swepipe.migrate.importer import ImportOptions
from swepipe.select.candidates import nothing_usable
from swepipe.store import Store
from swepipe.store.codecs import from_rows
from swepipe.types import Patch, patch_hash

from tests.migrate.conftest import DIFF_A, DIFF_B, write_json, write_jsonl


def _by_component(store: Store, component: str) -> list[dict]:
    return store.query("SELECT l.* FROM localizations l JOIN configs c USING (config_hash) "
                       "WHERE c.component = ? ORDER BY config_hash, instance_id, sample_idx, "
                       "pointer_idx", [component]).to_pylist()


def test_v10_lists_aligned_with_found_files_become_pointers(store: Store, v10_run: Path) -> None:
    report = migrate_agentless(store, v10_run)
    formats = {Path(p.source).relative_to(v10_run).as_posix(): p.format for p in report.plans}
    assert formats["file_level/loc_outputs.jsonl"] == "agentless/loc/v1.0"
    assert formats["related_level/loc_outputs.jsonl"] == "agentless/loc/v1.0"
    assert formats["repair_sample_1/output_0_processed.jsonl"] == "agentless/repair/single-file"
    assert formats["all_preds.jsonl"] == "agentless/preds/swe-bench"
    assert "repair_sample_1/used_locs.jsonl" not in formats  # a copy, skipped
    related = _by_component(store, "agentless.related_elements")  # detected from content
    pointers = from_rows("localize", [r for r in related if r["instance_id"] == "org__pkg-1"])
    assert [(p.file_path, p.kind, p.symbol, p.resolved, p.start_line) for p in pointers] == [
        ("pkg/a.py", "class", "A", False, None), ("pkg/b.py", "function", "f", False, None),
        ("pkg/b.py", "variable", "X", False, None)]
    samples = _by_component(store, "agentless.edit_location_samples")
    first = [(r["sample_idx"], r["kind"], r["start_line"], r["symbol"]) for r in samples
             if r["instance_id"] == "org__pkg-1"]
    assert first == [(0, "lines", 5, None), (1, "lines", 7, None), (1, "function", None, "A.run")]
    merged = _by_component(store, "agentless.edit_location_individual")
    assert [r["start_line"] for r in merged if r["instance_id"] == "org__pkg-1"] == [5, 7]


def test_v10_trajectories_become_sequences_linked_to_their_rows(store: Store,
                                                                v10_run: Path) -> None:
    migrate_agentless(store, v10_run)
    seqs = store.query("SELECT s.stage, c.component, s.sample_idx, len(s.completions) AS n, "
                       "s.prompt_tokens, s.model FROM sequences s JOIN configs c "
                       "USING (config_hash) WHERE s.instance_id = 'org__pkg-1' "
                       "ORDER BY c.component, s.sample_idx").to_pylist()
    assert [(s["component"], s["sample_idx"], s["n"]) for s in seqs] == [
        ("agentless.edit_location_samples", 0, 2), ("agentless.file_level", 0, 1),
        ("agentless.related_elements", 0, 1), ("agentless.repair", 0, 1),
        ("agentless.repair", 1, 1)]
    assert {s["model"] for s in seqs} == {"gpt-4o-2024-05-13"}
    prompt = store.query("SELECT c.text FROM sequences s, unnest(s.messages) AS m(msg) "
                         "JOIN contents c ON c.content_hash = msg.content_hash "
                         "WHERE s.stage = 'generate' AND s.sample_idx = 1 AND "
                         "s.instance_id = 'org__pkg-1'").to_pylist()
    assert prompt == [{"text": "repair?"}]
    # each patch names the trajectory that produced it
    linked = store.query("SELECT count(*) AS n FROM patches p JOIN sequences s "
                         "ON s.trajectory_id = p.trajectory_id AND s.sample_idx = p.sample_idx"
                         ).to_pylist()[0]["n"]
    assert linked == 4


def test_v10_repair_samples_merge_and_tests_land_in_test_runs(store: Store,
                                                              v10_run: Path) -> None:
    migrate_agentless(store, v10_run)
    patches = store.query("SELECT instance_id, sample_idx, diff, normalized_diff, status, "
                          "files, attempt FROM patches p JOIN configs c USING (config_hash) "
                          "WHERE c.component = 'agentless.repair' "
                          "ORDER BY instance_id, sample_idx").to_pylist()
    assert [(p["instance_id"], p["sample_idx"], p["status"]) for p in patches] == [
        ("org__pkg-1", 0, "ok"), ("org__pkg-1", 1, "ok"),
        ("org__pkg-2", 0, "empty"), ("org__pkg-2", 1, "empty")]
    assert patches[0]["normalized_diff"] == "NORMALIZED" and patches[0]["files"] == ["pkg/a.py"]
    assert patches[1]["diff"] == DIFF_B and {p["attempt"] for p in patches} == {1}
    runs = store.query("SELECT patch_hash, test_kind, test_id, status FROM test_runs "
                       "ORDER BY test_kind, patch_hash, test_id").to_pylist()
    h = patch_hash(DIFF_A)
    assert runs == [
        {"patch_hash": "", "test_kind": "regression", "test_id": "tests/test_a.py::test_x",
         "status": "passed"},
        {"patch_hash": h, "test_kind": "regression", "test_id": "*", "status": "failed"},
        {"patch_hash": h, "test_kind": "regression", "test_id": "tests/test_a.py::test_x",
         "status": "failed"},
        {"patch_hash": h, "test_kind": "reproduction", "test_id": "*", "status": "passed"}]
    preds = store.query("SELECT instance_id, patch, method FROM selections ORDER BY 1").to_pylist()
    assert [p["patch"] for p in preds] == [DIFF_A, DIFF_A]
    assert {p["method"] for p in preds} == {"agentless.rerank"}


def test_empty_and_blank_repair_candidates_are_keyed_as_the_store_and_selectors_key_them(
        store: Store, tmp_path: Path) -> None:
    ids = ["org__pkg-1", "org__pkg-2"]
    ingest_file(store, write_jsonl(tmp_path / "dataset.jsonl", [
        {"instance_id": i, "repo": "org/pkg", "base_commit": "0" * 40,
         "problem_statement": "bug", "patch": DIFF_A} for i in ids]), "fx")
    repair = tmp_path / "repair_sample_1"
    write_json(repair / "args.json", {"model": "gpt-4o-2024-05-13", "max_samples": 1})
    # no edit at all, and an edit that is only a newline (both ran the original code)
    records = [{"model_name_or_path": "agentless", "instance_id": i, "model_patch": d}
               for i, d in zip(ids, ["", "\n"])]
    write_jsonl(repair / "output_0_processed.jsonl", records)
    write_jsonl(repair / "output_0_regression_test_results.jsonl",
                [{**r, "regression": []} for r in records])
    migrate_agentless(store, repair, ImportOptions(dataset="fx"))
    rows = store.query(
        "SELECT p.instance_id, p.diff, p.run_hash, t.patch_hash FROM current_patches p "
        "LEFT JOIN test_runs t ON t.instance_id = p.instance_id AND t.patch_hash = p.run_hash "
        "AND t.test_kind = 'regression' AND t.test_id = '*' ORDER BY p.instance_id").to_pylist()
    # the imported rows are the ones the store's views look up for each candidate ...
    assert [r["patch_hash"] for r in rows] == [r["run_hash"] for r in rows]
    assert [r["run_hash"] for r in rows] == ["", Patch(diff="\n").content_hash]
    # ... and the ones a selector looks up: its empty submission is the original code ('')
    candidates = [Patch(diff=r["diff"], status="empty") for r in rows]
    assert patch_hash(nothing_usable(candidates, "m").patch) == rows[0]["run_hash"]
    assert [patch_hash(p) for p in candidates] == [r["run_hash"] for r in rows]


def test_upstream_chain_follows_args_paths(store: Store, v10_run: Path) -> None:
    migrate_agentless(store, v10_run)
    rows = {r["component"] + ":" + json.loads(r["params"]).get("legacy_file", "-"):
            (r["config_hash"], json.loads(r["upstream"]))
            for r in store.query("SELECT component, params, upstream, config_hash FROM configs"
                                 ).to_pylist()}
    file_level, _ = rows["agentless.file_level:loc_outputs.jsonl"]
    related, up = rows["agentless.related_elements:loc_outputs.jsonl"]
    assert up == {"start_file": file_level}
    merged, _ = rows["agentless.edit_location_individual:loc_merged_0-1_outputs.jsonl"]
    assert rows["agentless.repair:-"][1] == {"loc_file": merged}
    # runtime flags are not identity
    params = store.query("SELECT params FROM configs WHERE config_hash = ?", [file_level]
                         ).to_pylist()[0]["params"]
    assert "num_threads" not in json.loads(params)


def test_changed_sample_file_adds_an_attempt_that_keeps_other_samples(store: Store,
                                                                      v10_run: Path) -> None:
    migrate_agentless(store, v10_run)
    path = v10_run / "repair_sample_1" / "output_1_processed.jsonl"
    write_jsonl(path, [{"model_name_or_path": "agentless", "instance_id": "org__pkg-1",
                        "model_patch": DIFF_A, "raw_model_patch": DIFF_A}])
    report = migrate_agentless(store, v10_run)
    assert [Path(p.source).name for p in report.plans] == ["output_1_processed.jsonl"]
    latest = store.query("SELECT sample_idx, diff, normalized_diff FROM patches WHERE "
                         "instance_id = 'org__pkg-1' AND attempt = 2 ORDER BY 1").to_pylist()
    assert [(r["sample_idx"], r["diff"]) for r in latest] == [(0, DIFF_A), (1, DIFF_A)]
    assert latest[0]["normalized_diff"] == "NORMALIZED"


def test_multifile_repair_generation_round_trips(store: Store, multifile_repair: Path) -> None:
    report = migrate_agentless(store, multifile_repair / "output_0_processed.jsonl")
    assert report.plans[0].format == "agentless/repair/multi-file"
    (row,) = store.query("SELECT diff, files, meta, status FROM patches").to_pylist()
    assert row["diff"] == DIFF_A + DIFF_B and row["files"] == ["pkg/a.py", "pkg/b.py"]
    assert json.loads(row["meta"])["edited_files"] == ["pkg/a.py", "pkg/b.py"]
