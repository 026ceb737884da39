"""What a legacy file is: its kind, the component that wrote it, and the format generation.

Content decides, names only refine: a file's kind comes from the keys of its records (the union
over all lines, so one minimal record does not hide the shape), and the name is used only for
what content cannot say (the sample index in `output_3_processed.jsonl`, a merged edit-location
file, a copy such as `used_locs.jsonl`), and a localization file's levels also come from its
folder's `args.json` (agentless_levels). A JSONL file whose keys match no known shape, or a
localization-shaped file whose records carry keys no Agentless record has (another tool's
output), is refused naming the file, the line and the keys expected, never a guess.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from swepipe.errors import InputError
from swepipe.migrate.agentless_levels import (MERGED, expected_keys, foreign_keys,
                                              level_component, run_levels)
from swepipe.migrate.plan import BadLine
from swepipe.types import StageName

COPIES = {"used_locs.jsonl", "model_used_locs.jsonl", "embed_used_locs.jsonl"}
"""Copies Agentless writes of a stage's input; the original is imported from its own folder."""

_SAMPLE = re.compile(r"^output_(\d+)_")


@dataclass(frozen=True)
class Unknown:
    """Why a file is no known kind, and the index of the record that shows it."""

    reason: str
    index: int = 0


@dataclass(frozen=True)
class Detected:
    kind: str
    """loc | retrieval | combined | repair_raw | repair | reproduction_test |
    reproduction_chosen | passing_tests | select_regression | preds | copy"""
    stage: StageName | None
    component: str | None
    generation: str
    sample_idx: int = 0
    per_file_config: bool = True
    """The file's name is part of its config (each localization output is its own artifact);
    False for repair samples, which merge into one config per folder."""
    levels: tuple[tuple[str, str], ...] = ()
    """Localization files: (level, component) per level the file's run computed, coarse to
    fine (agentless_levels); `component` is the finest one's."""

    @property
    def format(self) -> str:
        return f"agentless/{self.kind}/{self.generation}"


def read_jsonl(path: Path) -> tuple[list[tuple[int, dict[str, Any], str]], list[BadLine]]:
    """(line, record, raw) for every good line; a `BadLine` for each truncated, undecodable or
    non-object line. Blank lines are skipped."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc}", source=str(path)) from exc
    good, bad = [], []
    for number, raw_bytes in enumerate(data.split(b"\n"), start=1):
        if not raw_bytes.strip():
            continue
        try:
            raw = raw_bytes.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(BadLine(str(path), number, "not UTF-8 text",
                               raw_bytes[:1000].decode("utf-8", "replace")))
            continue
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as exc:
            bad.append(BadLine(str(path), number, f"invalid JSON ({exc.msg}, column "
                               f"{exc.colno}); is the line truncated?", raw))
            continue
        if not isinstance(row, dict):
            bad.append(BadLine(str(path), number,
                               f"a line must hold one JSON object, not {type(row).__name__}",
                               raw))
            continue
        good.append((number, row, raw))
    return good, bad


def _kind_from_keys(keys: set[str], name: str) -> str | None:
    if "node_info" in keys:
        return "retrieval"
    if keys & {"found_related_locs", "found_edit_locs", "related_loc_traj", "edit_loc_traj"}:
        return "loc"
    if "found_files" in keys:
        return "combined"
    if "all_generations" in keys or {"raw_output", "try_count"} <= keys:
        return "repair_raw"
    if "test_patch" in keys:
        return "reproduction_chosen" if name.startswith("reproduction_tests") \
            else "reproduction_test"
    if "tests_passing_in_original_repo" in keys:
        return "select_regression" if keys & {"traj", "raw_output"} else "passing_tests"
    if "model_patch" in keys:
        repair_keys = {"raw_model_patch", "original_file_content", "normalized_patch",
                       "regression", "reproduction", "edited_files"}
        return "repair" if keys & repair_keys or _SAMPLE.match(name) else "preds"
    return None


def loc_generation(record: dict[str, Any]) -> str | None:
    """v1.5 stores per-file values as dicts, v1.0 as lists aligned with found_files."""
    for key in ("found_related_locs", "found_edit_locs"):
        value = record.get(key)
        if isinstance(value, dict) or (isinstance(value, list) and value
                                       and isinstance(value[0], dict)):
            return "v1.5"
        if isinstance(value, list) and (key == "found_related_locs" or value):
            return "v1.0"
    return None


def detect(path: Path, records: list[dict[str, Any]],
           args: dict[str, Any] | None = None) -> Detected:
    """Classify a JSONL file from its decoded records; `InputError` when it is no known kind."""
    found = classify(path, records, args)
    if isinstance(found, Unknown):
        raise InputError(found.reason, source=str(path), line=found.index + 1)
    return found


_EXPECTED = ("an Agentless localization record (instance_id, found_files, file_traj, "
             "found_related_locs, found_edit_locs, ...), a repair record (instance_id, "
             "model_patch, raw_model_patch, ...), a test or prediction record")


def _foreign(kind: str, keys: set[str], records: list[dict[str, Any]]) -> Unknown | None:
    """Another tool's localization output: records with keys no Agentless file has (`keys`,
    the union over the records, settles the usual case without looking at each one)."""
    if not foreign_keys(kind, keys):
        return None
    for index, r in enumerate(records):
        extra = foreign_keys(kind, set(r))
        if extra:
            return Unknown(f"unknown localization format: keys {sorted(extra)[:8]} are in no "
                           f"Agentless localization record; expected {expected_keys(kind)}",
                           index)
    return None


def classify(path: Path, records: list[dict[str, Any]],
             args: dict[str, Any] | None = None) -> Detected | Unknown:
    """`Detected`, or why the file is no known kind (see the module docstring). `args` is the
    folder's `args.json`: its level flags tell which levels a localization run computed."""
    name, folder = path.name, path.parent.name
    keys: set[str] = set()
    for r in records:
        keys |= r.keys()
    if name in COPIES:
        return Detected("copy", None, None, "-")
    kind = _kind_from_keys(keys, name)
    if kind is None:
        return Unknown(f"unknown format: no known Agentless record has the keys "
                       f"{sorted(keys)[:12]}; expected {_EXPECTED} "
                       "(see docs/legacy-migration.md)")
    if kind in ("loc", "retrieval", "combined"):
        foreign = _foreign(kind, keys, records)
        if foreign is not None:
            return foreign
    m = _SAMPLE.match(name)
    sample = int(m.group(1)) if m else 0
    if kind == "loc":
        gens = {g for g in map(loc_generation, records) if g}
        generation = "v1.5" if "v1.5" in gens or not gens else "v1.0"
        merged = MERGED.match(name)
        sample = int(merged.group(1)) if merged and merged.group(1) else 0
        levels = tuple((level, level_component(level, folder, name, records, args))
                       for level in run_levels(folder, name, records, args))
        return Detected(kind, "localize", levels[-1][1], generation, sample, levels=levels)
    if kind == "retrieval":
        return Detected(kind, "localize", "agentless.retrieval_embedding", "v1.5",
                        levels=(("file", "agentless.retrieval_embedding"),))
    if kind == "combined":
        return Detected(kind, "localize", "agentless.file_level_combined", "v1.5",
                        levels=(("file", "agentless.file_level_combined"),))
    if kind in ("repair", "repair_raw"):
        multi = any(isinstance(r.get("original_file_content"), list) or "edited_files" in r
                    for r in records)
        return Detected(kind, "generate", "agentless.repair",
                        "multi-file" if multi else "single-file", sample, per_file_config=False)
    if kind == "reproduction_test":
        return Detected(kind, "generate", "agentless.reproduction_test", "v1.5", sample,
                        per_file_config=False)
    if kind == "reproduction_chosen":
        return Detected(kind, "select", "agentless.reproduction_test_selection", "v1.5")
    if kind == "select_regression":
        return Detected(kind, "select", "agentless.select_regression", "v1.5")
    if kind == "passing_tests":
        return Detected(kind, None, None, "v1.5")
    return Detected("preds", "select", "agentless.rerank", "swe-bench")
