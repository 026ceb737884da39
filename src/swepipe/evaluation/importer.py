"""`import_evaluation(store, PATH)`: SWE-bench harness results become verdicts on candidates.

Per instance of the input (`formats.read_evaluation`):

1. **The candidate.** The patch comes from `--predictions FILE` (imported as a candidate set, as
   `import-predictions` does, named after the evaluation); else from candidates already imported
   with `import-predictions` whose `model_name_or_path` and instance match (without a model in
   the input: the one diff stored for the instance); else from the predictions file that came
   with the input (legacy folder, leaderboard submission; imported like `--predictions`); else
   from the log's own `patch.diff` (a candidate set `<name> (harness patches)`). An instance the
   harness reports with no patch (`empty_patch`, `no_generation`) gets an empty candidate. An
   instance with none of these is counted and left out.
2. **swepipe's grade.** Where test output exists it is graded (`execute.grading`) with the
   instance's FAIL_TO_PASS / PASS_TO_PASS from the store and the repository's parser
   (`execute.test_specs`); each test becomes a `test_runs` row of kind `swebench_fail_to_pass` /
   `swebench_pass_to_pass` (executor `swebench-harness`); a log without results (patch did not
   apply, tests errored) gives every test `error` with the reason, as `swepipe evaluate` does.
3. **The harness's verdict** goes to `harness_verdicts` beside swepipe's grade; where both exist
   and differ, the instance is listed with the cause.

Everything is one transaction and every write skips rows already there: importing twice changes
nothing. Instances the store does not hold are counted and skipped.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from swepipe.datasets.ingest import require_dataset
from swepipe.errors import InputError
from swepipe.evaluation.formats import Evaluation, HarnessRecord, read_evaluation
from swepipe.execute import grading, test_specs
from swepipe.hashing import file_checksum
from swepipe.rewards.predictions import read_predictions, write_predictions
from swepipe.store.sql_files import load_query
from swepipe.store.store import Store, insert_rows
from swepipe.types import patch_hash

EXECUTOR = "swebench-harness"
NO_PATCH = ("empty_patch", "no_generation")


@dataclass
class Disagreement:
    instance_id: str
    harness_resolved: bool
    graded_resolved: bool
    cause: str


@dataclass
class EvaluationReport:
    name: str
    format: str
    records: int = 0
    verdicts: int = 0
    new_verdicts: int = 0
    graded: int = 0
    resolved_harness: int = 0
    resolved_graded: int = 0
    test_rows: int = 0
    new_test_rows: int = 0
    unknown_instances: list[str] = field(default_factory=list)
    no_candidate: list[str] = field(default_factory=list)
    disagreements: list[Disagreement] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"{self.name} ({self.format}): {self.verdicts} verdicts "
                 f"({self.new_verdicts} new), {self.resolved_harness} resolved by the harness; "
                 f"{self.graded} graded from test output, {self.resolved_graded} resolved by "
                 f"swepipe; {self.test_rows} test rows ({self.new_test_rows} new)"]
        if self.unknown_instances:
            lines.append(f"  {len(self.unknown_instances)} instances not in the store, skipped")
        if self.no_candidate:
            lines.append(f"  {len(self.no_candidate)} verdicts without a candidate (give "
                         f"--predictions): {', '.join(self.no_candidate[:10])}")
        lines.append(f"  {len(self.disagreements)} grades disagree with the harness's report"
                     + (":" if self.disagreements else ""))
        for d in self.disagreements:
            lines.append(f"    {d.instance_id}: harness {_word(d.harness_resolved)}, swepipe "
                         f"{_word(d.graded_resolved)}: {d.cause}")
        return "\n".join(lines)


def _word(resolved: bool) -> str:
    return "resolved" if resolved else "unresolved"


def _rows_checksum(rows: list[dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()


class _Candidates:
    """Which diff each record's verdict is about (see the module docstring, step 1)."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, ev: Evaluation, ids: list[str],
                 predictions: Path | None) -> None:
        self.explicit: dict[str, str] = {}
        if predictions is not None:
            if not predictions.is_file():
                raise InputError("no such predictions file", source=str(predictions),
                                 field="predictions")
            rows = read_predictions(predictions)
            write_predictions(conn, rows, ev.name, file_checksum(predictions),
                              source=predictions)
            self.explicit = {r["instance_id"]: r["model_patch"] for r in rows}
        self.stored: dict[tuple[str, str | None], set[str]] = {}
        for row in conn.execute(load_query("evaluation/prediction_candidates"),
                                {"ids": ids}).fetchall():
            self.stored.setdefault((row[0], row[1]), set()).add(row[2])
            self.stored.setdefault((row[0], None), set()).add(row[2])
        # the predictions file that came with the input: imported only when a verdict needs it
        self.bundled_path = ev.predictions if predictions is None else None
        self.bundled = ({r["instance_id"]: r["model_patch"]
                         for r in read_predictions(self.bundled_path)}
                        if self.bundled_path else {})
        self.bundled_used = False
        self.from_logs: list[dict[str, Any]] = []

    def diff(self, record: HarnessRecord) -> str | None:
        if record.instance_id in self.explicit:
            return self.explicit[record.instance_id]
        found = self.stored.get((record.instance_id, record.model), set())
        if len(found) == 1:
            return next(iter(found))
        if record.instance_id in self.bundled:
            self.bundled_used = True
            return self.bundled[record.instance_id]
        if record.patch is not None or record.status in NO_PATCH:
            patch = record.patch or ""
            self.from_logs.append({"instance_id": record.instance_id,
                                   "model_name_or_path": record.model, "model_patch": patch})
            return patch
        return None

    def write(self, conn: duckdb.DuckDBPyConnection, name: str) -> None:
        """The candidate sets this import's verdicts need that are not in the store yet."""
        if self.bundled_used and self.bundled_path:
            write_predictions(conn, read_predictions(self.bundled_path), name,
                              file_checksum(self.bundled_path), source=self.bundled_path)
        if self.from_logs:
            write_predictions(conn, self.from_logs, f"{name} (harness patches)",
                              _rows_checksum(self.from_logs))


def _cause(record: HarnessRecord, grade: grading.Grade | None, reason: str | None,
           instance: dict[str, Any]) -> str:
    if grade is None:
        return f"the output has no test results: {reason}"
    ours = set(instance["fail_to_pass"]) | set(instance["pass_to_pass"])
    if record.report_tests is not None and record.report_tests != ours:
        extra, lacking = sorted(record.report_tests - ours), sorted(ours - record.report_tests)
        return (f"the report graded other test lists: {len(extra)} tests not in the store's "
                f"({', '.join(extra[:3])}), {len(lacking)} of the store's missing "
                f"({', '.join(lacking[:3])})")
    if not grade.resolved:
        shown = ", ".join(grade.failing[:3]) + (" ..." if len(grade.failing) > 3 else "")
        return (f"{len(grade.failing)} of the store's tests do not succeed ({shown}); the "
                f"harness graded other test lists or output")
    return (f"all {len(ours)} tests of the store's FAIL_TO_PASS/PASS_TO_PASS succeed in the "
            f"output; the harness of that time graded other lists (the store's revision dropped "
            f"or renamed tests) or parsed the output differently")


def _grade_rows(record: HarnessRecord, instance: dict[str, Any], run_hash: str
                ) -> tuple[list[dict[str, Any]], grading.Grade | None, str | None]:
    parser = test_specs.parser_for(instance["repo"])
    grade, reason = grading.grade_test_output(record.test_output or "", parser,
                                              instance["fail_to_pass"], instance["pass_to_pass"])
    base = {"instance_id": record.instance_id, "patch_hash": run_hash, "executor": EXECUTOR}
    if grade is None:
        tests = [("fail_to_pass", t) for t in instance["fail_to_pass"]]
        tests += [("pass_to_pass", t) for t in instance["pass_to_pass"]]
        rows = [{**base, "test_kind": f"swebench_{kind}", "test_id": t, "status": "error",
                 "output": reason} for kind, t in tests]
        return rows, None, reason
    rows = [{**base, "test_kind": f"swebench_{kind}", "test_id": t, "status": status,
             "output": None} for kind, t, status in grade.outcomes]
    return rows, grade, None


def _instances(conn: duckdb.DuckDBPyConnection, ids: list[str], dataset: str | None
               ) -> dict[str, dict[str, Any]]:
    cur = conn.execute(load_query("evaluation/instances"), {"ids": ids, "dataset": dataset})
    names = [d[0] for d in cur.description]
    return {row[0]: dict(zip(names, row)) for row in cur.fetchall()}


def _rest_of_dataset(conn: duckdb.DuckDBPyConnection, ev: Evaluation, dataset: str | None
                     ) -> list[HarnessRecord]:
    listed = [r.instance_id for r in ev.records]
    rows = conn.execute(load_query("evaluation/dataset_ids"),
                        {"ids": listed, "dataset": dataset}).fetchall()
    if not rows:
        raise InputError("a leaderboard results.json counts the rest of a dataset unresolved: "
                         "give --dataset (no single ingested dataset holds every listed id)",
                         field="dataset")
    seen = set(listed)
    source = ev.records[0].source if ev.records else ""
    return [HarnessRecord(iid, None, "unresolved", False, source) for _, iid, _ in rows
            if iid not in seen]


def _verdict(ev: Evaluation, record: HarnessRecord, instance: dict[str, Any], diff: str,
             report: EvaluationReport) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The `harness_verdicts` row and `test_runs` rows of one record, counted in `report`."""
    run_hash, graded, reason, rows = patch_hash(diff), None, None, []
    if record.test_output is not None and diff:
        rows, grade, reason = _grade_rows(record, instance, run_hash)
        graded = bool(grade and grade.resolved)
        report.graded += 1
        if record.resolved is not None and graded != record.resolved:
            reason = _cause(record, grade, reason, instance)
            report.disagreements.append(Disagreement(
                record.instance_id, record.resolved, graded, reason))
    report.resolved_harness += bool(record.resolved)
    report.resolved_graded += bool(graded)
    verdict = {"evaluation": ev.name, "instance_id": record.instance_id,
               "revision": instance["revision"], "patch_hash": run_hash, "model": record.model,
               "format": ev.format, "harness_status": record.status,
               "harness_resolved": record.resolved, "graded_resolved": graded,
               "reason": reason, "source_path": record.source}
    return verdict, rows


def import_evaluation(store: Store, path: str | Path, *, name: str | None = None,
                      predictions: str | Path | None = None,
                      dataset: str | None = None) -> EvaluationReport:
    """Import one harness result (any of the four shapes; see the module docstring)."""
    if dataset is not None:
        # else every instance would count as "not in the store" and the import succeed empty
        require_dataset(store, dataset)
    ev = read_evaluation(path)
    ev.name = name or ev.name
    report = EvaluationReport(ev.name, ev.format, records=len(ev.records))
    with store.transaction() as conn:
        if ev.rest_unresolved:
            ev.records += _rest_of_dataset(conn, ev, dataset)
        ids = sorted({r.instance_id for r in ev.records})
        instances = _instances(conn, ids, dataset)
        candidates = _Candidates(conn, ev, ids, Path(predictions) if predictions else None)
        verdicts, tests = [], []
        for record in ev.records:
            instance = instances.get(record.instance_id)
            if instance is None:
                report.unknown_instances.append(record.instance_id)
                continue
            diff = candidates.diff(record)
            if diff is None:
                report.no_candidate.append(record.instance_id)
                continue
            verdict, rows = _verdict(ev, record, instance, diff, report)
            verdicts.append(verdict)
            tests += rows
        candidates.write(conn, ev.name)
        report.verdicts, report.test_rows = len(verdicts), len(tests)
        # insert_rows counts only the rows it inserted: already-stored ones are skipped
        report.new_verdicts = insert_rows(conn, "harness_verdicts", verdicts, ignore_existing=True)
        report.new_test_rows = insert_rows(conn, "test_runs", tests, ignore_existing=True)
    return report
