"""Agentless repair, test and selection files -> `patches`, `test_runs`, `selections`, `sequences`.

- `repair_sample_k/output_{i}_processed.jsonl` (and `_normalized`, `_regression_test_results`,
  `_reproduction_test_results`, which repeat the processed record and add one field): one patch
  with `sample_idx` i under the folder's `agentless.repair` config. The files of a folder merge
  into one stage result per instance (normalized_diff fills in the processed patch). An empty
  `model_patch` is status `empty`; a non-empty `raw_model_patch` is kept in `meta`.
- `output.jsonl`: `traj[j]` is sample j's call (prompt, response, usage) -> `sequences`, with the
  trajectory id its patch carries. Sample 0 is greedy (temperature 0), the rest 0.8.
- regression results -> `test_runs` (kind `regression`): one `failed` row per failing test and a
  summary row with test_id `*`; reproduction results -> one `reproduction` row `*`.
  `patch_hash` is `swepipe.types.patch_hash`: the content hash, '' for an empty patch (the
  original code).
- `passing_tests.jsonl`, `select_regression/output.jsonl` -> `passed` regression rows on the
  original code ('' patch); the regression-selection call -> `sequences` (stage `select`).
- `output_{i}_processed_reproduction_test.jsonl` -> `agentless.reproduction_test` patches whose
  diff and `test` are the test patch; `reproduction_tests.jsonl` -> a selection of that test.
- `all_preds.jsonl` -> one `agentless.rerank` selection per instance (the submitted patch).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from swepipe.migrate.detect import Detected
from swepipe.migrate.plan import (FilePlan, ReadContext, StageResult, add_call, short_hash,
                                  validated)
from swepipe.migrate.records import (PassingTestsRecord, PredictionRecord, RepairRawRecord,
                                     RepairRecord, ReproductionTestRecord,
                                     SelectRegressionRecord, Traj)
from swepipe.types import Patch, Selection, patch_hash

_DIFF_FILE = re.compile(r"^diff --git a/(\S+) b/(\S+)", re.MULTILINE)
_MINUS_FILE = re.compile(r"^--- (?:a/)?(\S+)", re.MULTILINE)

Good = list[tuple[int, dict[str, Any], str]]


def diff_files(diff: str) -> list[str]:
    """Files a diff touches, from its headers (a regex: legacy diffs need not parse fully)."""
    found = [a for a, _ in _DIFF_FILE.findall(diff)] or \
        [p for p in _MINUS_FILE.findall(diff) if p != "/dev/null"]
    return list(dict.fromkeys(found))


def repair_trajectory_id(cfg: str, instance_id: str, sample_idx: int) -> str:
    return short_hash("traj", cfg, instance_id, "repair", sample_idx)


def _config(plan: FilePlan, path: Path, det: Detected, ctx: ReadContext,
            component: str | None = None) -> str:
    row = ctx.configs.row_for(path, det, component)
    plan.configs[row["config_hash"]] = row
    return row["config_hash"]


def _generation_component(path: Path) -> str:
    # output.jsonl of a reproduction-test folder has the repair shape
    folder = path.parent
    if any(folder.glob("*_reproduction_test.jsonl")) or (folder / "reproduction_tests.jsonl") \
            .exists():
        return "agentless.reproduction_test"
    return "agentless.repair"


def _test_rows(instance_id: str, phash: str, kind: str, tests: list[str], status: str
               ) -> list[dict[str, Any]]:
    return [{"instance_id": instance_id, "patch_hash": phash, "test_kind": kind, "test_id": t,
             "status": status, "executor": "agentless"} for t in tests]


def read_repair(plan: FilePlan, path: Path, det: Detected, good: Good, ctx: ReadContext) -> None:
    cfg = _config(plan, path, det, ctx)
    sample = det.sample_idx
    for _, rec in validated(plan, good, RepairRecord):
        diff = rec.model_patch or ""
        ok = bool(diff.strip())
        meta: dict[str, Any] = {}
        if rec.raw_model_patch and rec.raw_model_patch.strip() != diff.strip():
            meta["raw_model_patch"] = rec.raw_model_patch
        if rec.multi_file:
            meta["edited_files"] = rec.edited_files or []
        reason = None if ok else ("edit did not parse, apply or pass the syntax check"
                                  if rec.raw_model_patch else "no generation")
        patch = Patch(diff=diff, sample_idx=sample, status="ok" if ok else "empty",
                      reason=reason, normalized_diff=rec.normalized_patch,
                      files=diff_files(diff) if ok else list(rec.edited_files or []),
                      trajectory_id=repair_trajectory_id(cfg, rec.instance_id, sample),
                      meta=meta)
        plan.results.append(StageResult("generate", cfg, rec.instance_id, [patch]))
        phash = patch_hash(diff)
        if rec.regression is not None:
            plan.add_rows("test_runs", _test_rows(rec.instance_id, phash, "regression",
                                                  rec.regression, "failed"))
            plan.add_rows("test_runs", [{
                **_test_rows(rec.instance_id, phash, "regression", ["*"],
                             "failed" if rec.regression else "passed")[0],
                "output": json.dumps(rec.regression)}])
        if rec.reproduction is not None:
            plan.add_rows("test_runs", _test_rows(rec.instance_id, phash, "reproduction", ["*"],
                                                  "passed" if rec.reproduction else "failed"))


def read_repair_raw(plan: FilePlan, path: Path, det: Detected, good: Good,
                    ctx: ReadContext) -> None:
    component = _generation_component(path)
    cfg = _config(plan, path, det, ctx, component)
    args = ctx.configs.args_for(path.parent) or {}
    for _, rec in validated(plan, good, RepairRawRecord):
        for j, traj in enumerate(rec.traj):
            if traj.prompt is None:
                continue
            response = traj.response if isinstance(traj.response, list) else \
                [traj.response or ""]
            greedy = j == 0 and not args.get("skip_greedy")
            add_call(plan, messages=[("user", traj.prompt)], completions=response,
                     usage=traj.usage, model=args.get("model"), stage="generate",
                     config_hash=cfg, instance_id=rec.instance_id, sample_idx=j,
                     trajectory_id=repair_trajectory_id(cfg, rec.instance_id, j),
                     temperature=0.0 if greedy else 0.8)


def read_reproduction_test(plan: FilePlan, path: Path, det: Detected, good: Good,
                           ctx: ReadContext) -> None:
    cfg = _config(plan, path, det, ctx)
    chosen = det.kind == "reproduction_chosen"
    for _, rec in validated(plan, good, ReproductionTestRecord):
        test = rec.test_patch or ""
        if chosen:
            plan.results.append(StageResult("select", cfg, rec.instance_id, Selection(
                chosen_sample_idx=None, patch=test, method="agentless.reproduction_test")))
            continue
        patch = Patch(diff=test, test=test or None, sample_idx=det.sample_idx,
                      status="ok" if test.strip() else "empty", files=diff_files(test),
                      trajectory_id=repair_trajectory_id(cfg, rec.instance_id, det.sample_idx),
                      meta={"kind": "reproduction_test"})
        plan.results.append(StageResult("generate", cfg, rec.instance_id, [patch]))


def read_passing_tests(plan: FilePlan, path: Path, det: Detected, good: Good,
                       ctx: ReadContext) -> None:
    for _, rec in validated(plan, good, PassingTestsRecord):
        plan.add_rows("test_runs", _test_rows(rec.instance_id, "", "regression",
                                              rec.tests_passing_in_original_repo, "passed"))


def read_select_regression(plan: FilePlan, path: Path, det: Detected, good: Good,
                           ctx: ReadContext) -> None:
    cfg = _config(plan, path, det, ctx)
    args = ctx.configs.args_for(path.parent) or {}
    for _, rec in validated(plan, good, SelectRegressionRecord):
        plan.add_rows("test_runs", _test_rows(rec.instance_id, "", "regression",
                                              rec.tests_passing_in_original_repo, "passed"))
        trajs = rec.traj if isinstance(rec.traj, list) else [rec.traj]
        for turn, traj in enumerate(t for t in trajs if isinstance(t, Traj)):
            if traj.prompt is None:
                continue
            response = traj.response if isinstance(traj.response, list) else \
                [traj.response or ""]
            add_call(plan, messages=[("user", traj.prompt)], completions=response,
                     usage=traj.usage, model=args.get("model"), stage="select",
                     config_hash=cfg, instance_id=rec.instance_id, turn=turn,
                     trajectory_id=short_hash("traj", cfg, rec.instance_id, "select_regression"),
                     temperature=args.get("temperature"))


def read_preds(plan: FilePlan, path: Path, det: Detected, good: Good, ctx: ReadContext,
               component: str | None = None) -> None:
    cfg = _config(plan, path, det, ctx, component)
    method = component or det.component or "agentless.rerank"
    for _, rec in validated(plan, good, PredictionRecord):
        plan.results.append(StageResult("select", cfg, rec.instance_id, Selection(
            chosen_sample_idx=None, patch=rec.model_patch or "", method=method,
            rationale=f"legacy prediction of {rec.model_name_or_path or 'unknown'}")))


READERS = {
    "repair": read_repair, "repair_raw": read_repair_raw,
    "reproduction_test": read_reproduction_test, "reproduction_chosen": read_reproduction_test,
    "passing_tests": read_passing_tests, "select_regression": read_select_regression,
    "preds": read_preds,
}
