"""CodeMonkeys trajectory store -> the same tables a live run writes.

`<store>/<instance_id>/NN_.../` (docs/legacy-formats.md). One source per instance section (the
relevance folder, `02_ranking.json`, each state-machine folder, ...), each imported whole in
the import's one transaction. Configs: component `codemonkeys.<section>`, code_version
`legacy`, params `{"run": <run name>}` (the store folder's name unless `--run-name`), chained
relevance -> ranking -> context -> testing/editing -> selection.

| section | rows |
|---|---|
| 01 relevance | `codemonkeys.relevance` pointers: the relevant files (kind file); each decision's message -> a sequence (the prompt is not stored) |
| 02 ranking | `codemonkeys.ranking` (merged ranking, tokens per file), `codemonkeys.ranking_samples` (sample j = model ranking j), `codemonkeys.context` (ranked files until the 128k budget); ranking messages -> sequences |
| 03 testing | sequences (one per assistant turn); each script's run on the original code -> test_runs (generated) |
| 04 editing | `codemonkeys.editing` patches (last patch = candidate, last test file = `test`); sequences; final test on original and edited code -> test_runs |
| 05 execution | the patch x test matrix -> test_runs (generated; '' patch = empty diff) |
| 06 / 09 | harness verdicts -> test_runs (kind `swebench`, test_id `resolved`) |
| 07 / 08 / 10 | selections (chosen candidate), sequences; 08/10 test matrices -> test_runs |
| `<store>/*.jsonl` | the final export (SWE-bench predictions) -> `codemonkeys.final` selections |

Generated tests are identified by the hash of their text (`test_id`), and the text is kept in
`contents`, so one test's results line up across sections.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from swepipe.errors import InputError
from swepipe.migrate import codemonkeys_records as cm
from swepipe.migrate.agentless_repair import diff_files, read_preds
from swepipe.migrate.detect import Detected, read_jsonl
from swepipe.migrate.importer import Source
from swepipe.migrate.plan import (RAW_LIMIT, BadLine, FilePlan, ReadContext, StageResult,
                                  add_call, short_hash, text_id)
from swepipe.store.configs import config_row
from swepipe.types import CodePointer, Patch, Selection, StageName, patch_hash

TOKEN_BUDGET = 128_000
SECTIONS = ("01_relevance_decisions", "02_ranking.json", "03_testing_state_machines",
            "04_editing_state_machines", "05_generated_test_execution.json",
            "06_sample_evaluation.json", "07_model_selection", "08_selection_state_machine",
            "09_solution_ensemble.json", "10_selection_state_machine_with_ensembled_solutions")
_UPSTREAM = {"ranking": ["relevance"], "ranking_samples": ["relevance"], "context": ["ranking"],
             "testing": ["context"], "editing": ["context", "testing"],
             "model_selection": ["editing"], "selection_state_machine": ["editing"],
             "selection_state_machine_ensembled": ["editing"], "final": []}
_STAGE: dict[str, StageName] = {"relevance": "localize", "ranking": "localize",
                                "ranking_samples": "localize", "context": "localize",
                                "testing": "generate", "editing": "generate"}


class Run:
    """Config rows of one CodeMonkeys run, chained like the pipeline."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._rows: dict[str, dict[str, Any]] = {}

    def config(self, plan: FilePlan, section: str) -> str:
        if section not in self._rows:
            params: dict[str, Any] = {"run": self.name}
            if section == "context":
                params["token_budget"] = TOKEN_BUDGET
            upstream = {u: self.config(plan, u) for u in _UPSTREAM.get(section, [])}
            self._rows[section] = config_row(_STAGE.get(section, "select"),
                                             f"codemonkeys.{section}", "legacy", params,
                                             upstream, legacy=True)
        row = self._rows[section]
        plan.configs[row["config_hash"]] = row
        return row["config_hash"]


def _load(plan: FilePlan, path: Path, model: type[BaseModel]) -> Any:
    """Validate one JSON file; refuse it (file:line: reason) and return None when bad."""
    plan.records += 1
    try:
        text = path.read_text()
        return model.model_validate(json.loads(text))
    except UnicodeDecodeError:
        plan.bad.append(_bad(path, None, "not UTF-8 text", None))
    except json.JSONDecodeError as exc:
        plan.bad.append(_bad(path, exc.lineno, f"invalid JSON ({exc.msg}); is the file "
                                               "truncated?", text))
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        plan.bad.append(_bad(path, 1, f"field {field!r}: {err['msg'].lower()} (not a "
                                      f"{model.__name__})", text))
    return None


def _bad(path: Path, line: int | None, reason: str, raw: str | None) -> BadLine:
    return BadLine(str(path), line, reason, raw[:RAW_LIMIT] if raw else None)


def _conversation(plan: FilePlan, data: cm.StateData, *, stage: StageName, cfg: str, iid: str,
                  sample: int, name: str) -> str:
    """One sequence per assistant turn: the messages before it are its prompt."""
    traj = short_hash("traj", cfg, iid, name, sample)
    turn = 0
    for k, msg in enumerate(data.messages):
        if msg.role != "assistant":
            continue
        usage = data.prompt_caching_usages[turn] if turn < len(data.prompt_caching_usages) \
            else None
        add_call(plan, messages=[(m.role, m.content) for m in data.messages[:k]],
                 completions=[msg.content], usage=usage, model=None, stage=stage,
                 config_hash=cfg, instance_id=iid, trajectory_id=traj, sample_idx=sample,
                 turn=turn)
        turn += 1
    return traj


def _runs(plan: FilePlan, iid: str, patch: str, test: str, out: cm.ExecutionOutput,
          kind: str = "generated") -> None:
    plan.contents.setdefault(text_id(test), test)
    plan.add_rows("test_runs", [{"instance_id": iid, "patch_hash": patch_hash(patch),
                                 "test_kind": kind, "test_id": text_id(test),
                                 "status": out.status, "exit_code": out.exit_code,
                                 "output": out.stdout, "executor": "codemonkeys"}])


def _verdict(plan: FilePlan, iid: str, patch: str, resolved: bool) -> None:
    plan.add_rows("test_runs", [{"instance_id": iid, "patch_hash": patch_hash(patch),
                                 "test_kind": "swebench", "test_id": "resolved",
                                 "status": "passed" if resolved else "failed",
                                 "executor": "swebench-harness"}])


def _samples(folder: Path) -> list[tuple[int, Path]]:
    files = [p for p in folder.glob("*.json") if p.stem.isdigit()]
    return sorted((int(p.stem), p) for p in files)


def _relevance(plan: FilePlan, folder: Path, run: Run, iid: str) -> None:
    cfg = run.config(plan, "relevance")
    relevant = []
    for f in sorted(p for p in folder.rglob("*.json") if p.is_file()):
        d = _load(plan, f, cm.RelevanceDecision)
        if d is None:
            continue
        path = f.relative_to(folder).as_posix().removesuffix(".json")
        if d.status == "relevant":
            relevant.append(path)
        add_call(plan, messages=[], completions=[d.message], usage=None, model=None,
                 stage="localize", config_hash=cfg, instance_id=iid,
                 trajectory_id=short_hash("traj", cfg, iid, "relevance", path))
    plan.results.append(StageResult("localize", cfg, iid, [
        CodePointer(file_path=p, kind="file", rank=i) for i, p in enumerate(relevant)]))


def _ranking(plan: FilePlan, path: Path, run: Run, iid: str) -> None:
    ctx = _load(plan, path, cm.ProblemContext)
    if ctx is None:
        return
    merged = [CodePointer(file_path=f.path, kind="file", rank=i, tokens=f.tokens)
              for i, f in enumerate(ctx.ranked_files)]
    plan.results.append(StageResult("localize", run.config(plan, "ranking"), iid, merged))
    used, context = 0, []
    for p in merged:
        if used + (p.tokens or 0) > TOKEN_BUDGET:
            break  # CodeMonkeys adds files in order until the budget is reached
        used += p.tokens or 0
        context.append(p)
    plan.results.append(StageResult("localize", run.config(plan, "context"), iid, context))
    cfg = run.config(plan, "ranking_samples")
    samples = []
    for j, r in enumerate(ctx.model_rankings):
        samples += [CodePointer(file_path=f, kind="file", rank=i, sample_idx=j)
                    for i, f in enumerate(r.ranking)]
        usage = ctx.prompt_caching_usages[j] if j < len(ctx.prompt_caching_usages) else None
        add_call(plan, messages=[], completions=[r.message], usage=usage, model=None,
                 stage="localize", config_hash=cfg, instance_id=iid, sample_idx=j,
                 trajectory_id=short_hash("traj", cfg, iid, "ranking", j))
    plan.results.append(StageResult("localize", cfg, iid, samples))


def _testing(plan: FilePlan, folder: Path, run: Run, iid: str) -> None:
    cfg = run.config(plan, "testing")
    for i, f in _samples(folder):
        d = _load(plan, f, cm.TestingStateData)
        if d is None:
            continue
        _conversation(plan, d, stage="generate", cfg=cfg, iid=iid, sample=i, name="testing")
        for script, out in zip(d.scripts, d.outputs):
            _runs(plan, iid, "", script, out)


def _editing(plan: FilePlan, folder: Path, run: Run, iid: str) -> None:
    cfg = run.config(plan, "editing")
    patches = []
    for i, f in _samples(folder):
        d = _load(plan, f, cm.EditingStateData)
        if d is None:
            continue
        traj = _conversation(plan, d, stage="generate", cfg=cfg, iid=iid, sample=i,
                             name="editing")
        diff = d.patches[-1] if d.patches else ""
        test = d.test_files[-1] if d.test_files else d.initial_test_file
        patches.append(Patch(diff=diff, sample_idx=i, status="ok" if diff.strip() else "empty",
                             files=diff_files(diff), test=test, trajectory_id=traj,
                             meta={"state": d.state, "attempt_history": d.attempt_history}))
        if test and d.original_codebase_outputs:
            _runs(plan, iid, "", test, d.original_codebase_outputs[-1])
        if test and diff.strip() and d.edited_codebase_outputs:
            _runs(plan, iid, diff, test, d.edited_codebase_outputs[-1])
    plan.results.append(StageResult("generate", cfg, iid, patches))


def _execution(plan: FilePlan, path: Path, run: Run, iid: str) -> None:
    d = _load(plan, path, cm.GeneratedTestExecutionResults)
    if d is None:
        return
    for p, row in zip(d.patch_data, d.test_outputs_per_edit):
        for t, out in zip(d.test_data, row):
            _runs(plan, iid, p.patch, t.test, out)
    for t, out in zip(d.test_data, d.test_outputs_on_empty_diff):
        _runs(plan, iid, "", t.test, out)


def _evaluation(plan: FilePlan, path: Path, run: Run, iid: str) -> None:
    model = cm.SampleEvaluation if path.name.startswith("06") else cm.SolutionEnsemble
    d = _load(plan, path, model)
    if d is None:
        return
    for patch, result in d.patch_to_results.items():
        _verdict(plan, iid, patch, result if isinstance(result, bool) else result.resolved)


def _selection(plan: FilePlan, folder: Path, run: Run, iid: str) -> None:
    section = {"07": "model_selection", "08": "selection_state_machine",
               "10": "selection_state_machine_ensembled"}[folder.name[:2]]
    cfg = run.config(plan, section)
    model = cm.SelectionData if section == "model_selection" else cm.SelectionStateMachineData
    for i, f in _samples(folder)[:1]:  # one selection per instance (`0.json`)
        d = _load(plan, f, model)
        if d is None:
            continue
        _conversation(plan, d, stage="select", cfg=cfg, iid=iid, sample=i, name=section)
        chosen = d.candidates[d.selected_patch] if d.selected_patch is not None \
            and 0 <= d.selected_patch < len(d.candidates) else None
        plan.results.append(StageResult("select", cfg, iid, Selection(
            chosen_sample_idx=chosen.sample_index if chosen else None,
            patch=chosen.patch if chosen else "", method=f"codemonkeys.{section}")))
        if isinstance(d, cm.SelectionStateMachineData):
            for c, row in zip(d.candidates, d.edited_codebase_outputs):
                for test, out in zip(d.generated_tests, row):
                    _runs(plan, iid, c.patch, test, out)
            for test, out in zip(d.generated_tests, d.original_codebase_outputs):
                _runs(plan, iid, "", test, out)


_READERS = {"01": _relevance, "02": _ranking, "03": _testing, "04": _editing,
            "05": _execution, "06": _evaluation, "07": _selection, "08": _selection,
            "09": _evaluation, "10": _selection}


def _instance_dirs(path: Path) -> list[Path]:
    if any((path / s).exists() for s in SECTIONS):
        return [path]
    return sorted(d for d in path.iterdir() if d.is_dir() and any((d / s).exists()
                                                                  for s in SECTIONS))


def codemonkeys_sources(path: Path, run_name: str | None = None) -> list[Source]:
    if not path.is_dir():
        raise InputError("a CodeMonkeys store is a folder of <instance_id>/ folders",
                         source=str(path))
    instances = _instance_dirs(path)
    root = path.parent if instances == [path] else path
    run = Run(run_name or root.name)
    sources = []
    for inst in instances:
        for section in SECTIONS:
            target = inst / section
            if target.exists():
                sources.append(Source(target, lambda c, ctx, t=target, i=inst: _build(
                    t, c, run, i)))
    for export in sorted(root.glob("*.jsonl")):  # the final predictions export
        sources.append(Source(export, lambda c, ctx, e=export: _final(e, c, ctx)))
    if not sources:
        raise InputError(f"no CodeMonkeys instance folders (with {SECTIONS[0]}/, "
                         f"{SECTIONS[1]}, ...) here", source=str(path))
    return sources


def _final(path: Path, checksum: str, ctx: ReadContext) -> FilePlan:
    """`{"instance_id", "model_name_or_path", "model_patch"}` lines -> `codemonkeys.final`."""
    good, bad = read_jsonl(path)
    plan = FilePlan(source=str(path), checksum=checksum, format="codemonkeys/final")
    plan.bad += bad
    read_preds(plan, path, Detected("preds", "select", "codemonkeys.final", "swe-bench"), good,
               ctx)
    return plan


def _build(target: Path, checksum: str, run: Run, inst: Path) -> FilePlan:
    plan = FilePlan(source=str(target), checksum=checksum,
                    format=f"codemonkeys/{target.name.removesuffix('.json')[3:]}")
    _READERS[target.name[:2]](plan, target, run, inst.name)
    return plan
