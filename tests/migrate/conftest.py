"""Legacy caches built from the documented field lists (docs/legacy-formats.md), in tmp dirs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SHARED_DATA

LEGACY = SHARED_DATA / "legacy"

DIFF_A = ("diff --git a/pkg/a.py b/pkg/a.py\n--- a/pkg/a.py\n+++ b/pkg/a.py\n"
          "@@ -1,2 +1,2 @@\n def f():\n-    return 1\n+    return 2\n")
DIFF_B = ("diff --git a/pkg/b.py b/pkg/b.py\n--- a/pkg/b.py\n+++ b/pkg/b.py\n"
          "@@ -1 +1 @@\n-X = 1\n+X = 2\n")


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def write_json(path: Path, value: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value))
    return path


def traj(prompt: str, response: Any, p: int = 100, c: int = 10) -> dict[str, Any]:
    return {"prompt": prompt, "response": response,
            "usage": {"prompt_tokens": p, "completion_tokens": c}}


@pytest.fixture
def legacy_dir() -> Path:
    if not LEGACY.is_dir():
        pytest.skip(f"legacy data folder {LEGACY} is absent (clone has no ../shared/data)")
    return LEGACY


@pytest.fixture
def v10_run(tmp_path: Path) -> Path:
    """An Agentless v1.0 results folder: lists aligned with found_files, dict related traj."""
    root = tmp_path / "results"
    files = ["pkg/a.py", "pkg/b.py"]
    ids = ["org__pkg-1", "org__pkg-2"]
    base = {"additional_artifact_loc_file": {}, "file_traj": {},
            "additional_artifact_loc_related": [], "additional_artifact_loc_edit_location": [],
            "edit_loc_traj": {}}
    write_json(root / "file_level" / "args.json", {"model": "gpt-4o-2024-05-13", "top_n": 2,
                                                   "temperature": 0.0, "num_threads": 8})
    write_jsonl(root / "file_level" / "loc_outputs.jsonl", [
        {**base, "instance_id": i, "found_files": files, "file_traj": traj("files?", "pkg/a.py"),
         "found_related_locs": [], "related_loc_traj": {}, "found_edit_locs": []} for i in ids])
    write_json(root / "related_level" / "args.json", {
        "model": "gpt-4o-2024-05-13", "start_file": "results/file_level/loc_outputs.jsonl"})
    write_jsonl(root / "related_level" / "loc_outputs.jsonl", [
        {**base, "instance_id": i, "found_files": files,
         "found_related_locs": [["class: A"], ["function: f\nvariable: X"]],
         "related_loc_traj": traj("related?", "class: A"), "found_edit_locs": []}
        for i in ids])
    write_json(root / "edit_location_samples" / "args.json", {
        "model": "gpt-4o-2024-05-13", "temperature": 0.8, "num_samples": 2,
        "start_file": "results/related_level/loc_outputs.jsonl"})
    write_jsonl(root / "edit_location_samples" / "loc_outputs.jsonl", [
        {**base, "instance_id": i, "found_files": files,
         "found_related_locs": [["class: A"], [""]], "related_loc_traj": {},
         "found_edit_locs": [[["line: 5"], [""]], [["line: 7\nfunction: A.run"], [""]]],
         "edit_loc_traj": traj("edit?", ["line: 5", "line: 7"])} for i in ids])
    write_jsonl(root / "edit_location_samples" / "loc_merged_0-1_outputs.jsonl", [
        {**base, "instance_id": i, "found_files": files, "found_related_locs": [],
         "related_loc_traj": {}, "found_edit_locs": [["line: 5\nline: 7"], [""]]} for i in ids])
    repair = root / "repair_sample_1"
    write_json(repair / "args.json", {
        "loc_file": "results/edit_location_samples/loc_merged_0-1_outputs.jsonl",
        "model": "gpt-4o-2024-05-13", "max_samples": 2, "top_n": 2})
    write_jsonl(repair / "output.jsonl", [
        {"instance_id": i, "raw_output": ["edit0", "edit1"], "all_generations": [["e0", "e1"]],
         "try_count": [1, 2], "traj": [traj("repair?", "e0"), traj("repair?", "e1")],
         "prev_content": [["x", "x"]], "file_names": [["pkg/a.py", "pkg/a.py"]]} for i in ids])
    processed = [{"model_name_or_path": "agentless", "instance_id": ids[0], "model_patch": DIFF_A,
                  "raw_model_patch": DIFF_A, "original_file_content": "def f():\n    return 1\n"},
                 {"model_name_or_path": "agentless", "instance_id": ids[1], "model_patch": ""}]
    write_jsonl(repair / "output_0_processed.jsonl", processed)
    write_jsonl(repair / "output_0_normalized.jsonl", [
        {**processed[0], "normalized_patch": "NORMALIZED"}, {**processed[1], "normalized_patch": ""}])
    write_jsonl(repair / "output_0_regression_test_results.jsonl", [
        {**processed[0], "regression": ["tests/test_a.py::test_x"]}])
    write_jsonl(repair / "output_0_reproduction_test_results.jsonl", [
        {**processed[0], "reproduction": True}])
    write_jsonl(repair / "output_1_processed.jsonl", [
        {**processed[0], "model_patch": DIFF_B, "raw_model_patch": DIFF_B},
        {**processed[1], "model_patch": ""}])
    write_jsonl(repair / "used_locs.jsonl", [{"instance_id": ids[0], "found_files": files}])
    write_jsonl(root / "passing_tests.jsonl", [
        {"instance_id": ids[0], "tests_passing_in_original_repo": ["tests/test_a.py::test_x"]}])
    write_jsonl(root / "all_preds.jsonl", [
        {"model_name_or_path": "agentless", "instance_id": i, "model_patch": DIFF_A} for i in ids])
    return root


@pytest.fixture
def multifile_repair(tmp_path: Path) -> Path:
    """A repair folder of the Dec 2024 multi-file generation (lists of files per record)."""
    folder = tmp_path / "repair_sample_1"
    write_json(folder / "args.json", {"model": "claude-3-5-sonnet-20241022", "max_samples": 1})
    write_jsonl(folder / "output_0_processed.jsonl", [{
        "model_name_or_path": "agentless", "instance_id": "org__pkg-1",
        "model_patch": DIFF_A + DIFF_B, "raw_model_patch": DIFF_A + DIFF_B,
        "original_file_content": ["def f():\n    return 1\n", "X = 1\n"],
        "edited_files": ["pkg/a.py", "pkg/b.py"],
        "new_file_content": ["def f():\n    return 2\n", "X = 2\n"]}])
    return folder


def _out(code: int, stdout: str = "") -> dict[str, Any]:
    return {"stdout": stdout, "exit_code": code, "timed_out": False}


def _state(sample: int, **extra: Any) -> dict[str, Any]:
    return {"state": "DONE", "sample_index": sample, "state_history": ["START", "DONE"],
            "messages": [{"role": "system", "content": "You fix bugs."},
                         {"role": "user", "content": f"problem, sample {sample}"},
                         {"role": "assistant", "content": f"answer {sample}"}],
            "prompt_caching_usages": [{"input_tokens": 50, "output_tokens": 5,
                                       "cache_read_input_tokens": 40}],
            "state_counter": 2, "attempt_counter": 1, "attempt_history": ["EMITTED_DONE"],
            **extra}


@pytest.fixture
def codemonkeys_store(tmp_path: Path) -> Path:
    """A CodeMonkeys trajectory store with one instance and every section, 2 samples."""
    store = tmp_path / "cm_run"
    inst = store / "org__pkg-1"
    rel = inst / "01_relevance_decisions"
    write_json(rel / "pkg" / "a.py.json", {"message": "relevant!", "status": "relevant",
                                           "summary": "defines f"})
    write_json(rel / "pkg" / "b.py.json", {"message": "no", "status": "not_relevant",
                                           "summary": None})
    write_json(rel / "pkg" / "c.py.json", {"message": "???", "status": "parse_error",
                                           "summary": None})
    write_json(inst / "02_ranking.json", {
        "model_rankings": [{"message": "r0", "ranking": ["pkg/a.py", "pkg/b.py"]},
                           {"message": "r1", "ranking": ["pkg/b.py", "pkg/a.py"]}],
        "ranked_files": [{"tokens": 100_000, "path": "pkg/a.py"},
                         {"tokens": 20_000, "path": "pkg/b.py"},
                         {"tokens": 50_000, "path": "pkg/c.py"}],
        "prompt_caching_usages": [{"input_tokens": 10, "output_tokens": 2}] * 2})
    tests = ["import sys; sys.exit(2)  # test0", "import sys; sys.exit(2)  # test1"]
    patches = [DIFF_A, DIFF_B]
    for i in range(2):
        write_json(inst / "03_testing_state_machines" / f"{i}.json", _state(
            i, scripts=[tests[i]], outputs=[_out(2, "not fixed")]))
        write_json(inst / "04_editing_state_machines" / f"{i}.json", _state(
            i, test_files=[tests[i]], original_codebase_outputs=[_out(2)],
            initial_test_file=tests[i], search_replaces=["<<<"], patches=["", patches[i]],
            edited_codebase_outputs=[_out(2), _out(0)]))
    write_json(inst / "05_generated_test_execution.json", {
        "test_outputs_per_edit": [[_out(0), _out(2)], [_out(2), _out(0)]],
        "test_outputs_on_empty_diff": [_out(2), _out(2)],
        "patch_data": [{"sample_index": i, "patch": patches[i]} for i in range(2)],
        "test_data": [{"sample_index": i, "test": tests[i]} for i in range(2)],
        "costs": [0.1, 0.2]})
    write_json(inst / "06_sample_evaluation.json", {"patch_to_results": {
        DIFF_A: {"resolved": True, "report": {}, "log_dir": "l", "run_instance_log": "",
                 "test_output": ""},
        DIFF_B: {"resolved": False, "report": {}, "log_dir": "l", "run_instance_log": "",
                 "test_output": ""}}})
    candidates = [{"sample_index": i, "patch": patches[i]} for i in range(2)]
    write_json(inst / "07_model_selection" / "0.json", _state(0, candidates=candidates,
                                                              selected_patch=1))
    sm = _state(0, candidates=candidates, selected_patch=0, example_test=tests[0],
                generated_tests=[tests[0]], edited_codebase_outputs=[[_out(0)], [_out(2)]],
                original_codebase_outputs=[_out(2)])
    write_json(inst / "08_selection_state_machine" / "0.json", sm)
    write_json(inst / "09_solution_ensemble.json", {"example_test": tests[0],
                                                    "patch_to_results": {DIFF_A: True}})
    write_json(inst / "10_selection_state_machine_with_ensembled_solutions" / "0.json", sm)
    return store


def gold_diff(*paths: str) -> str:
    return "".join(f"diff --git a/{p} b/{p}\n--- a/{p}\n+++ b/{p}\n@@ -1 +1 @@\n-x = 1\n+x = 2\n"
                   for p in paths)


# Agentless v1.0 combined localization records (docs/legacy-formats.md and issue 14): all three
# levels in one record, per-file lists aligned with found_files[:top_n], "" = nothing found there.
V10_GOLD = {"org__pkg-1": ["pkg/a.py"], "org__pkg-2": ["pkg/b.py"], "org__pkg-3": ["pkg/b.py"],
            "org__pkg-4": ["pkg/a.py", "pkg/d.py"], "org__pkg-5": ["pkg/e.py"],
            "org__pkg-6": ["pkg/a.py"]}
V10_LEVELS = {  # instance -> (found_files, found_related_locs, found_edit_locs)
    # the case: every edit location is an empty string, the gold file is in found_files
    "org__pkg-1": (["pkg/z.py", "pkg/a.py", "pkg/b.py", "pkg/c.py"],
                   [[""], ["function: f"], ["class: B"]], [[""], [""], [""]]),
    "org__pkg-2": (["pkg/a.py", "pkg/b.py"], [["class: A"], [""]], [["line: 3"], [""]]),
    "org__pkg-3": (["pkg/b.py", "pkg/a.py"], [["function: g\nvariable: V"], ["function: h"]],
                   [["function: g\nline: 10"], [""]]),
    "org__pkg-4": (["pkg/a.py", "pkg/c.py"], [["function: f"], [""]], [[""], ["line: 2"]]),
    "org__pkg-5": (["pkg/a.py"], [[""]], [[""]]),
    "org__pkg-6": ([], [], []),  # the model named no file
}


def v10_record(instance_id: str) -> dict[str, Any]:
    files, related, edit = V10_LEVELS[instance_id]
    return {
        "instance_id": instance_id, "found_files": files,
        "additional_artifact_loc_file": {"raw_output_files": "\n".join(files)},
        "file_traj": traj(f"which files? {instance_id}", "\n".join(files)),
        "found_related_locs": related,
        "additional_artifact_loc_related": [{"raw_output_loc": "related"}],
        "related_loc_traj": traj(f"which elements? {instance_id}", "related"),
        "found_edit_locs": edit,
        "additional_artifact_loc_edit_location": [{"raw_output_loc": ["edit"]}],
        "edit_loc_traj": traj(f"where to edit? {instance_id}", "edit")}


@pytest.fixture
def v10_combined(tmp_path: Path) -> Path:
    """An Agentless v1.0 `results/location/loc_outputs.jsonl` (all levels in one run, no
    args.json beside it), and a dataset file `dataset.jsonl` with the instances' gold patches."""
    write_jsonl(tmp_path / "dataset.jsonl", [
        {"instance_id": i, "repo": "org/pkg", "base_commit": "0" * 40,
         "problem_statement": f"bug {i}", "patch": gold_diff(*gold), "version": "1.0"}
        for i, gold in V10_GOLD.items()])
    return write_jsonl(tmp_path / "results" / "location" / "loc_outputs.jsonl",
                       [v10_record(i) for i in V10_LEVELS])
