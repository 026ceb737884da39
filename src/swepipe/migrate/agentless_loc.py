"""Agentless localization files -> `localizations` rows (stage `localize`) and `sequences`.

A file becomes one config per level its run computed (agentless_levels: a v1.0 record holds all
three, a v1.5 stage folder one); each level has its own stage runs, pointers and trajectory, and
a level that found nothing (`[]`, or empty strings per file) is an empty result of that level,
never a reason to drop a coarser one. Copies of the levels a run started from are imported from
their own folders.

| level: component `agentless.<stage>` | pointers from | trajectory |
|---|---|---|
| file: file_level, file_level_irrelevant (kept files) | `found_files`, kind `file`, rank = order | `file_traj` |
| file: retrieval_embedding, file_level_combined | `found_files` | none (no model call) |
| related: related_elements | `found_related_locs` (class/function/variable) | `related_loc_traj` (one call per retry) |
| edit: edit_location_samples | `found_edit_locs`, one `sample_idx` per sample | `edit_loc_traj` (one call, n completions) |
| edit: edit_location_individual (`loc_merged_{i}-{j}`) | `found_edit_locs`, `sample_idx` = i | none (a merge, no call) |

Locations are parsed with `repos.locations.parse_locations`: `line: N` pointers carry their line,
symbols stay `resolved=False` with null lines unless a checkout resolves them (`--repos-dir`, or
later `swepipe migrate resolve`). Ranks run over a sample in the order Agentless wrote them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from swepipe.migrate.detect import Detected, loc_generation
from swepipe.migrate.plan import (FilePlan, ReadContext, StageResult, add_call, short_hash,
                                  validated)
from swepipe.migrate.records import LocRecord, RetrievalRecord, Traj
from swepipe.repos.locations import parse_locations
from swepipe.types import CodePointer


def file_pointers(paths: list[str]) -> list[CodePointer]:
    return [CodePointer(file_path=p, kind="file", rank=i) for i, p in enumerate(paths)]


def per_file_pointers(value: Any, found_files: list[str], sample_idx: int) -> list[CodePointer]:
    """Pointers from one sample's per-file location strings (v1.5 dict or v1.0 aligned list)."""
    if isinstance(value, dict):
        pairs = list(value.items())
    else:
        if len(value) > len(found_files):
            raise ValueError(f"{len(value)} per-file entries but only {len(found_files)} "
                             "found_files to align them with (v1.0 lists follow found_files)")
        pairs = list(zip(found_files, value))
    out: list[CodePointer] = []
    for path, texts in pairs:
        for p in parse_locations("\n".join(texts), path):
            out.append(p.model_copy(update={"rank": len(out), "sample_idx": sample_idx}))
    return out


def edit_samples(value: Any, default_sample: int) -> list[tuple[int, Any]]:
    """Split `found_edit_locs` into (sample_idx, per-file value) pairs, whatever the generation."""
    if not value:
        return []
    if isinstance(value, dict):
        return [(default_sample, value)]
    if isinstance(value[0], dict):  # v1.5, several samples
        return list(enumerate(value))
    # v1.0, one aligned list per sample (any sample may be empty: look past it)
    if any(isinstance(v, list) and v and isinstance(v[0], list) for v in value):
        return list(enumerate(value))
    return [(default_sample, value)]  # v1.0, one sample


def _add_traj(plan: FilePlan, traj: Traj | None, *, name: str, cfg: str, instance_id: str,
              model: str | None, temperature: float | None, turn: int = 0) -> None:
    if traj is None or traj.prompt is None:
        return
    responses = traj.response if isinstance(traj.response, list) else \
        ([traj.response] if traj.response is not None else [])
    add_call(plan, messages=[("user", traj.prompt)], completions=responses, usage=traj.usage,
             model=model, stage="localize", config_hash=cfg, instance_id=instance_id,
             trajectory_id=short_hash("traj", cfg, instance_id, name), turn=turn,
             temperature=temperature)


def _pointers(level: str, rec: LocRecord | RetrievalRecord, det: Detected) -> list[CodePointer]:
    if level == "file":
        return file_pointers(rec.found_files)
    assert isinstance(rec, LocRecord)
    if level == "related":
        return per_file_pointers(rec.found_related_locs or {}, rec.found_files, 0)
    pointers: list[CodePointer] = []
    for idx, value in edit_samples(rec.found_edit_locs, det.sample_idx):
        pointers += per_file_pointers(value, rec.found_files, idx)
    return pointers


def _add_level_trajs(plan: FilePlan, level: str, component: str, rec: LocRecord | RetrievalRecord,
                     common: dict[str, Any]) -> None:
    if not isinstance(rec, LocRecord):
        return  # retrieval: an embedding call, no prompt
    if level == "file" and component != "agentless.file_level_combined":
        _add_traj(plan, rec.file_traj, name="file_traj", **common)
    elif level == "related":
        trajs = rec.related_loc_traj
        for turn, traj in enumerate(trajs if isinstance(trajs, list) else [trajs]):
            _add_traj(plan, traj, name="related_loc_traj", turn=turn, **common)
    elif component == "agentless.edit_location_samples":  # a merged file has no call
        _add_traj(plan, rec.edit_loc_traj, name="edit_loc_traj", **common)


def read_loc(plan: FilePlan, path: Path, det: Detected,
             good: list[tuple[int, dict[str, Any], str]], ctx: ReadContext) -> None:
    """Fill `plan` from a loc_outputs-shaped file (also retrieval and combined files): one
    stage result per record and level, under that level's config."""
    levels = []
    for level, row in ctx.configs.level_rows(path, det):
        plan.configs[row["config_hash"]] = row
        plan.levels[row["config_hash"]] = level
        levels.append((level, row["component"], row["config_hash"]))
    args = ctx.configs.args_for(path.parent) or {}
    model, temperature = args.get("model"), args.get("temperature")
    shape = RetrievalRecord if det.kind == "retrieval" else LocRecord
    raws = {line: row for line, row, _ in good}
    for line, rec in validated(plan, good, shape):
        generation = loc_generation(raws[line]) if det.kind == "loc" else None
        if generation and generation != det.generation:
            plan.refuse(line, f"per-file locations are {generation}-shaped in a "
                              f"{det.generation} file", None)
            continue
        iid = rec.instance_id
        try:
            found = [(level, component, cfg, _pointers(level, rec, det))
                     for level, component, cfg in levels]
        except ValueError as exc:
            plan.refuse(line, str(exc), None)
            continue
        for level, component, cfg, pointers in found:
            if ctx.resolve is not None and any(not p.resolved for p in pointers):
                pointers = ctx.resolve(iid, pointers)
            plan.results.append(StageResult("localize", cfg, iid, pointers))
            _add_level_trajs(plan, level, component, rec,
                             {"cfg": cfg, "instance_id": iid, "model": model,
                              "temperature": temperature})
