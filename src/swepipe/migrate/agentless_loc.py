"""Agentless localization files -> `localizations` rows (stage `localize`) and `sequences`.

Each stage keeps only what it produced; every record also carries copies of its upstream
stages' fields, which are imported from their own folders:

| stage (component `agentless.<stage>`) | pointers from | trajectory |
|---|---|---|
| file_level, file_level_irrelevant (kept files) | `found_files`, kind `file`, rank = order | `file_traj` |
| retrieval_embedding, file_level_combined | `found_files` | none (no model call) |
| related_elements | `found_related_locs` (class/function/variable) | `related_loc_traj` (one call per retry) |
| edit_location_samples | `found_edit_locs`, one `sample_idx` per sample | `edit_loc_traj` (one call, n completions) |
| edit_location_individual (`loc_merged_{i}-{j}`) | `found_edit_locs`, `sample_idx` = i | none (a merge, no call) |

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

_FILE_STAGES = {"file_level", "file_level_irrelevant", "file_level_combined",
                "retrieval_embedding"}


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
    if value[0] and isinstance(value[0][0], list):  # v1.0, one aligned list per sample
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


def read_loc(plan: FilePlan, path: Path, det: Detected,
             good: list[tuple[int, dict[str, Any], str]], ctx: ReadContext) -> None:
    """Fill `plan` from a loc_outputs-shaped file (also retrieval and combined files)."""
    cfg_row = ctx.configs.row_for(path, det)
    cfg = cfg_row["config_hash"]
    plan.configs[cfg] = cfg_row
    args = ctx.configs.args_for(path.parent) or {}
    model, temperature = args.get("model"), args.get("temperature")
    stage = det.component.split(".", 1)[1]  # type: ignore[union-attr]
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
            if stage in _FILE_STAGES:
                pointers = file_pointers(rec.found_files)
            elif stage == "related_elements":
                pointers = per_file_pointers(rec.found_related_locs or {}, rec.found_files, 0)
            else:
                pointers = []
                for idx, value in edit_samples(rec.found_edit_locs, det.sample_idx):
                    pointers += per_file_pointers(value, rec.found_files, idx)
        except ValueError as exc:
            plan.refuse(line, str(exc), None)
            continue
        if ctx.resolve is not None and any(not p.resolved for p in pointers):
            pointers = ctx.resolve(iid, pointers)
        plan.results.append(StageResult("localize", cfg, iid, pointers))
        common = {"cfg": cfg, "instance_id": iid, "model": model, "temperature": temperature}
        if stage in ("file_level", "file_level_irrelevant"):
            _add_traj(plan, rec.file_traj, name="file_traj", **common)
        elif stage == "related_elements":
            trajs = rec.related_loc_traj
            for turn, traj in enumerate(trajs if isinstance(trajs, list) else [trajs]):
                _add_traj(plan, traj, name="related_loc_traj", turn=turn, **common)
        elif stage == "edit_location_samples":
            _add_traj(plan, rec.edit_loc_traj, name="edit_loc_traj", **common)
