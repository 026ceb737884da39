"""Harness results in each of the four shapes, written to tmp_path, for three instances in a store.

Instances `psf__requests-1..3` (repo psf/requests 2.0): FAIL_TO_PASS `t.py::test_fix`,
PASS_TO_PASS `t.py::test_old`, `t.py::test_skip`. Outputs: `GOOD` resolves (the P2P skip counts as
succeeded), `BAD` fails the F2P test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swepipe.datasets.ingest import ingest_instances
from swepipe.errors import ExecutionError
from swepipe.evaluation.official import ensure_swebench
from swepipe.execute.test_specs import END_TEST_OUTPUT, START_TEST_OUTPUT
from swepipe.store.store import Store
from swepipe.types import Instance

IDS = ("psf__requests-1", "psf__requests-2", "psf__requests-3")
MODEL = "acme/coder-7b"
F2P, P2P = ["t.py::test_fix"], ["t.py::test_old", "t.py::test_skip"]
GOOD = "PASSED t.py::test_fix\nPASSED t.py::test_old\nSKIPPED t.py::test_skip\n"
BAD = "FAILED t.py::test_fix - assert 1 == 2\nPASSED t.py::test_old\nPASSED t.py::test_skip\n"


def patch_of(instance_id: str) -> str:
    return (f"diff --git a/requests/api.py b/requests/api.py\n--- a/requests/api.py\n"
            f"+++ b/requests/api.py\n@@ -1 +1 @@\n-x = 1\n+x = '{instance_id}'\n")


def modern_output(body: str) -> str:
    return f"+ git apply -v -\n+ : '{START_TEST_OUTPUT}'\n{body}+ : '{END_TEST_OUTPUT}'\n"


@pytest.fixture
def graded_store(store: Store) -> Store:
    ingest_instances(store, [Instance(instance_id=i, repo="psf/requests", base_commit="0" * 40,
                                      problem_statement="p", patch=patch_of("gold"),
                                      repo_version="2.0", fail_to_pass=F2P, pass_to_pass=P2P)
                             for i in IDS], "lite", "test")
    return store


def write_predictions(path: Path, ids=IDS, model: str = MODEL) -> Path:
    path.write_text("".join(json.dumps({"instance_id": i, "model_name_or_path": model,
                                        "model_patch": patch_of(i)}) + "\n" for i in ids))
    return path


def log_tree(root: Path, outputs: dict[str, str], reports: dict[str, bool],
             run_id: str = "run1", with_patch: bool = True,
             tests_status: dict[str, dict] | None = None) -> Path:
    """`root/logs/run_evaluation/<run_id>/<model>/<id>/` for each id of `outputs`."""
    tree = root / "logs" / "run_evaluation" / run_id / MODEL.replace("/", "__")
    for instance_id, body in outputs.items():
        d = tree / instance_id
        d.mkdir(parents=True)
        (d / "test_output.txt").write_text(modern_output(body))
        if with_patch:
            (d / "patch.diff").write_text(patch_of(instance_id))
        if instance_id in reports:
            (d / "report.json").write_text(json.dumps({instance_id: {
                "patch_is_None": False, "patch_exists": True,
                "patch_successfully_applied": True, "resolved": reports[instance_id],
                **({"tests_status": tests_status[instance_id]}
                   if tests_status and instance_id in tests_status else {})}}))
    return root / "logs"


def legacy_folder(root: Path, outputs: dict[str, str], report: dict[str, list[str]]) -> Path:
    (root / "logs").mkdir(parents=True)
    for instance_id, body in outputs.items():
        text = (f"[requests] [{instance_id}] Command: git apply -v test.patch\n"
                f">>>>> Applied Patch (test)\nTest Script:  pytest -rA t.py;\n{body}\n"
                + (">>>>> Some Tests Failed\n" if "FAILED" in body else ">>>>> All Tests Passed\n"))
        if body == "APPLY FAILED":
            text = f"[{instance_id}] error: patch failed\n>>>>> Patch Apply Failed; (pred_try)\n"
        (root / "logs" / f"{instance_id}.acme.eval.log").write_text(text)
    (root / "report.json").write_text(json.dumps(report))
    write_predictions(root / "predictions.jsonl", model="acme")
    return root


@pytest.fixture(scope="session")
def swebench_dir() -> Path:
    """The official package, installed with --no-deps into its own folder (once per machine)."""
    try:
        return ensure_swebench()
    except ExecutionError as exc:  # no package index reachable
        pytest.skip(f"the official swebench package cannot be installed: {exc}")
