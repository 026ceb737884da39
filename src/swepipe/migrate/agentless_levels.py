"""The levels of an Agentless localization file: which it holds, and which its run computed.

Agentless localizes at three levels: ranked files (`found_files`), related elements per file
(`found_related_locs`) and edit locations per file (`found_edit_locs`), each with its trajectory
(`file_traj`, `related_loc_traj`, `edit_loc_traj`). v1.0 usually ran all three in one call of
`localize.py`, so one record holds all of them; v1.5 runs one level per stage folder and each
record repeats (copies) the coarser levels it started from. Every level the run computed becomes
its own config, chained coarse -> fine; a level that is only a copy of the start file's output is
imported from that file. A level is *filled* when some record has a non-empty value for it
(`[""]`, per-file empty strings, is filled: the level ran and found nothing there).

Which levels a run computed, first rule that applies:
1. a merged edit-location file (`loc_merged_*`, `loc_all_merged*`, or `args.json` `merge`):
   the edit level only (its coarser levels are copies of its `start_file`);
2. `args.json` level flags (`file_level`, `related_level`, `fine_grain_line_level`): from the
   coarsest flagged level;
3. `args.json` names a `start_file`: from the finest filled level (the rest came from there);
4. a known stage folder (`related_elements/`, ...): from that folder's level;
5. otherwise (a lone `loc_outputs.jsonl`, an unknown folder): from the file level.
From that start level, every finer level that is flagged or filled is created too, so no level
present in the source is dropped.
"""

from __future__ import annotations

import re
from typing import Any

LEVELS = ("file", "related", "edit")
FIELDS = {"file": "found_files", "related": "found_related_locs", "edit": "found_edit_locs"}
TRAJECTORIES = {"file": "file_traj", "related": "related_loc_traj", "edit": "edit_loc_traj"}
_FLAGS = {"file_level": "file", "related_level": "related", "fine_grain_line_level": "edit"}
_FOLDER_LEVEL = {"file_level": "file", "file_level_irrelevant": "file",
                 "related_elements": "related", "edit_location_samples": "edit",
                 "edit_location_individual": "edit"}
MERGED = re.compile(r"^loc_merged_(\d+)-(\d+)_outputs|^loc_all_merged")

LOC_KEYS = frozenset({"instance_id", "found_files", "additional_artifact_loc_file", "file_traj",
                      "found_related_locs", "additional_artifact_loc_related",
                      "related_loc_traj", "found_edit_locs",
                      "additional_artifact_loc_edit_location", "edit_loc_traj"})
"""Every key an Agentless `loc_outputs.jsonl` record has (docs/legacy-formats.md)."""
RETRIEVAL_KEYS = frozenset({"instance_id", "found_files", "node_info", "traj"})
COMBINED_KEYS = frozenset({"instance_id", "found_files", "additional_artifact_loc_file",
                           "file_traj"})


def flags_decide(args: dict[str, Any] | None) -> bool:
    """Whether `args.json` says which levels the run computed (else the records' content does,
    and all of them must be read to tell)."""
    return bool(args) and any(k in args for k in (*_FLAGS, "merge"))


def filled_levels(records: list[dict[str, Any]]) -> set[str]:
    return {level for level, key in FIELDS.items() if any(r.get(key) for r in records)}


def run_levels(folder: str, name: str, records: list[dict[str, Any]],
               args: dict[str, Any] | None) -> tuple[str, ...]:
    """The levels this file's run computed, coarse to fine (see the module docstring)."""
    args = args or {}
    filled = filled_levels(records)
    if MERGED.match(name) or args.get("merge"):
        return ("edit",)
    flagged = {level for flag, level in _FLAGS.items() if args.get(flag)}
    if flagged:
        start = min(flagged, key=LEVELS.index)
    elif args.get("start_file"):
        start = max(filled, key=LEVELS.index) if filled else "file"
    else:
        start = _FOLDER_LEVEL.get(folder, "file")
    first = LEVELS.index(start)
    return tuple(level for level in LEVELS[first:]
                 if level == start or level in flagged or level in filled)


LEVEL_COMPONENTS = tuple(f"agentless.{folder}" for folder in _FOLDER_LEVEL)
"""Every component `level_component` gives a level of a `loc_outputs`-shaped file."""


def level_component(level: str, folder: str, name: str, records: list[dict[str, Any]],
                    args: dict[str, Any] | None) -> str:
    """The legacy component (`agentless.<stage>`) of one level of a file."""
    args = args or {}
    if level == "file":
        irrelevant = folder == "file_level_irrelevant" or args.get("irrelevant") or any(
            isinstance(r.get("additional_artifact_loc_file"), dict)
            and "filtered_files" in r["additional_artifact_loc_file"] for r in records)
        return "agentless.file_level_irrelevant" if irrelevant else "agentless.file_level"
    if level == "related":
        return "agentless.related_elements"
    merged = MERGED.match(name) or args.get("merge") or folder == "edit_location_individual"
    return "agentless.edit_location_individual" if merged else "agentless.edit_location_samples"


def _known_keys(kind: str) -> frozenset[str]:
    return {"retrieval": RETRIEVAL_KEYS, "combined": COMBINED_KEYS}.get(kind, LOC_KEYS)


def foreign_keys(kind: str, keys: set[str]) -> set[str]:
    """Keys of a localization-shaped record that no Agentless localization file has."""
    return keys - _known_keys(kind)


def expected_keys(kind: str) -> str:
    return ", ".join(["instance_id"] + sorted(_known_keys(kind) - {"instance_id"}))
