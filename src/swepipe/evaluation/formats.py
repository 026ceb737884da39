"""The four shapes SWE-bench harness results come in, read into one list of `HarnessRecord`s.

- `log_tree`: `logs/run_evaluation/<run_id>/<model>/<instance_id>/` with `report.json`,
  `test_output.txt` and `patch.diff` (the `swebench` package >= 2); PATH may be the tree or any
  folder inside it. The model folder is `model_name_or_path` with `/` written `__`.
- `run_summary`: `<model>.<run_id>.json` with `resolved_ids`, `unresolved_ids`, `error_ids`,
  `empty_patch_ids`, ... (no test output).
- `leaderboard`: `results/results.json` of a leaderboard submission, `{"resolved": [...],
  "no_generation": [...], "no_logs": [...]}` (older ones also `no_apply`, `test_errored`, ...);
  every other instance of the dataset counts unresolved. The submission's `all_preds.jsonl` (or
  `preds.json`) beside `results/` is its predictions.
- `legacy_logs`: harness v1 output, `logs/<instance_id>.<model>.eval.log` per instance and a
  `report.json` of instance ids by outcome (`resolved`, `no_apply`, ...), and often the evaluated
  `predictions.jsonl`. The test output follows `>>>>> Applied Patch (test)` (and a `Test Script:`
  line) and ends at `>>>>> Some Tests Failed` / `All Tests Passed` / `Tests Errored` /
  `Tests Timed Out`; it is given the modern Start/End markers so one grader reads both. Its
  `report.json` given alone (or any `results.json` not in a `results/` folder) reads as
  `legacy_report`: verdicts only, on the `predictions.jsonl` beside it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swepipe.errors import InputError
from swepipe.execute.test_specs import END_TEST_OUTPUT, START_TEST_OUTPUT


@dataclass
class HarnessRecord:
    """One instance's harness result as the input states it."""

    instance_id: str
    model: str | None
    status: str
    """resolved | unresolved | error | no_apply | empty_patch | no_generation | no_logs | ..."""
    resolved: bool | None
    """The harness's verdict; None when the input says nothing (a log without a report)."""
    source: str
    patch: str | None = None
    """The evaluated patch, when the input carries it (`patch.diff`)."""
    test_output: str | None = None
    """Test output in the modern shape (with the Start/End markers), when there is one."""
    report_tests: frozenset[str] | None = None
    """The FAIL_TO_PASS and PASS_TO_PASS ids the harness's report graded (`tests_status`)."""


@dataclass
class Evaluation:
    format: str
    name: str
    records: list[HarnessRecord]
    predictions: Path | None = None
    """A predictions file that came with the input (legacy folder, leaderboard submission)."""
    rest_unresolved: bool = False
    """Instances of the dataset the input does not list count unresolved (leaderboard)."""


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", source=str(path)) from exc
    except json.JSONDecodeError as exc:
        raise InputError(f"not JSON: {exc.msg}", source=str(path), line=exc.lineno) from exc


def _id_lists(data: Any, path: Path, keys: tuple[str, ...]) -> dict[str, list[str]]:
    # checked here for every reader: a report.json may hold any JSON value, not only an object
    if not isinstance(data, dict):
        raise InputError(f"expected a JSON object of instance-id lists ({', '.join(keys[:2])}, "
                         "...)", source=str(path))
    out = {}
    for key in keys:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InputError("expected a list of instance ids", source=str(path), field=key)
        out[key] = value
    return out


def _verdicts(path: Path, lists: dict[str, list[str]], order: tuple[tuple[str, str], ...],
              model: str | None) -> list[HarnessRecord]:
    """One record per listed id; the first list of `order` ((key, status)) that holds it wins."""
    seen: dict[str, HarnessRecord] = {}
    for key, status in order:
        for instance_id in lists.get(key, []):
            seen.setdefault(instance_id, HarnessRecord(
                instance_id, model, status, status == "resolved", str(path)))
    return list(seen.values())


_SUMMARY_ORDER = (("resolved_ids", "resolved"), ("empty_patch_ids", "empty_patch"),
                  ("error_ids", "error"), ("unresolved_ids", "unresolved"))
_REPORT_ORDER = (("resolved", "resolved"), ("no_generation", "no_generation"),
                 ("no_logs", "no_logs"), ("no_apply", "no_apply"), ("install_fail", "error"),
                 ("reset_failed", "error"), ("test_errored", "error"),
                 ("test_timeout", "error"), ("applied", "unresolved"),
                 ("generated", "unresolved"))


def read_run_summary(path: Path, data: dict[str, Any]) -> Evaluation:
    lists = _id_lists(data, path, tuple(k for k, _ in _SUMMARY_ORDER))
    model, _, run_id = path.stem.rpartition(".")
    return Evaluation("run_summary", run_id or path.stem,
                      _verdicts(path, lists, _SUMMARY_ORDER, model.replace("__", "/") or None))


def read_results_json(path: Path, data: dict[str, Any], fmt: str) -> Evaluation:
    lists = _id_lists(data, path, tuple(k for k, _ in _REPORT_ORDER))
    folder = path.parent.parent if path.parent.name == "results" else path.parent
    preds = next((p for p in (folder / "all_preds.jsonl", folder / "preds.json",
                              folder / "predictions.jsonl") if p.is_file()), None)
    # a leaderboard lists only some outcomes: the rest of the dataset is unresolved
    rest = fmt == "leaderboard" and not lists["generated"]
    return Evaluation(fmt, folder.name, _verdicts(path, lists, _REPORT_ORDER, None), preds, rest)


_LEGACY_END = (">>>>> Some Tests Failed", ">>>>> All Tests Passed", ">>>>> Tests Errored",
               ">>>>> Tests Timed Out")


def legacy_test_output(text: str) -> str:
    """A v1 log with the modern Start/End markers around its test output (unchanged when the test
    patch never applied, so it grades as having no results)."""
    at = text.rfind(">>>>> Applied Patch (test)")
    if at < 0:
        return text
    start = text.find("\n", at) + 1 or len(text)
    ends = [i for i in (text.find(m, start) for m in _LEGACY_END) if i >= 0]
    if not ends:  # cut off before the runner finished: no end marker, no results
        return f"{text[:start]}{START_TEST_OUTPUT}\n{text[start:]}"
    end = min(ends)
    return (f"{text[:start]}{START_TEST_OUTPUT}\n{text[start:end]}{END_TEST_OUTPUT}\n"
            f"{text[end:]}")


def read_legacy_logs(folder: Path) -> Evaluation:
    logs_dir = folder / "logs" if (folder / "logs").is_dir() else folder
    report_path = folder / "report.json"
    report = _json(report_path) if report_path.is_file() else {}
    lists = _id_lists(report, report_path, tuple(k for k, _ in _REPORT_ORDER))
    by_id = {r.instance_id: r for r in _verdicts(report_path, lists, _REPORT_ORDER, None)}
    records = []
    for log in sorted(logs_dir.glob("*.eval.log")):
        instance_id, _, rest = log.name.partition(".")
        model = rest.removesuffix(".eval.log")
        verdict = by_id.get(instance_id)
        text = log.read_text(encoding="utf-8", errors="replace")
        records.append(HarnessRecord(
            instance_id, model, verdict.status if verdict else "unknown",
            verdict.resolved if verdict else None, str(log),
            test_output=legacy_test_output(text)))
    preds = folder / "predictions.jsonl"
    return Evaluation("legacy_logs", folder.resolve().name, records,
                      preds if preds.is_file() else None)


def _tree_record(instance_dir: Path) -> HarnessRecord:
    instance_id, model = instance_dir.name, instance_dir.parent.name.replace("__", "/")
    report_path = instance_dir / "report.json"
    status, resolved, graded_ids = "unknown", None, None
    if report_path.is_file():
        report = _json(report_path)
        entry = report.get(instance_id) if isinstance(report, dict) else None
        if not isinstance(entry, dict):
            raise InputError(f"no entry for {instance_id}", source=str(report_path))
        resolved = bool(entry.get("resolved"))
        tests = entry.get("tests_status")
        if isinstance(tests, dict):
            graded_ids = frozenset(t for kind in ("FAIL_TO_PASS", "PASS_TO_PASS")
                                   for part in ("success", "failure")
                                   for t in (tests.get(kind) or {}).get(part) or ())
        status = ("resolved" if resolved else "empty_patch" if entry.get("patch_is_None")
                  else "no_apply" if not entry.get("patch_successfully_applied")
                  else "unresolved")
    out = instance_dir / "test_output.txt"
    patch = instance_dir / "patch.diff"
    return HarnessRecord(
        instance_id, model, status, resolved, str(instance_dir),
        patch=patch.read_text(encoding="utf-8", errors="replace") if patch.is_file() else None,
        test_output=out.read_text(encoding="utf-8", errors="replace") if out.is_file() else None,
        report_tests=graded_ids)


def read_log_tree(root: Path) -> Evaluation:
    dirs = sorted({p.parent for name in ("report.json", "test_output.txt")
                   for p in root.rglob(name)})
    records = [_tree_record(d) for d in dirs]
    run_ids = sorted({d.parent.parent.name for d in dirs})
    name = run_ids[0] if len(run_ids) == 1 else root.resolve().name
    return Evaluation("log_tree", name, records)


def read_evaluation(path: str | Path) -> Evaluation:
    """Detect the shape of `path` and read it (an `InputError` when it is none of the four)."""
    path = Path(path)
    if not path.exists():
        raise InputError("no such file or folder", source=str(path))
    if path.is_file():
        data = _json(path)
        if isinstance(data, dict) and any(k in data for k, _ in _SUMMARY_ORDER):
            return read_run_summary(path, data)
        if isinstance(data, dict) and "resolved" in data:
            fmt = "leaderboard" if path.parent.name == "results" else "legacy_report"
            return read_results_json(path, data, fmt)
        raise InputError("not a harness run summary (resolved_ids, ...) nor a results.json "
                         "(resolved, ...)", source=str(path))
    if (path / "results" / "results.json").is_file():
        return read_evaluation(path / "results" / "results.json")
    if next((path / "logs").glob("*.eval.log"), None) or next(path.glob("*.eval.log"), None):
        return read_legacy_logs(path)
    evaluation = read_log_tree(path)
    if not evaluation.records:
        raise InputError("no harness results here: expected <instance>/report.json or "
                         "test_output.txt, *.eval.log files, or results/results.json",
                         source=str(path))
    return evaluation
