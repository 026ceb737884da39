"""Legacy configs: each Agentless stage folder's `args.json` becomes the params of a config.

- component: `agentless.<stage>` (e.g. `agentless.file_level`), code_version `"legacy"`, and
  the row is registered with `legacy=True`. Live components never use code_version "legacy", so
  a legacy hash cannot collide with a live one.
- params: `args.json` minus runtime flags (`num_threads`, `skip_existing`, `target_id`: how
  the run was scheduled, not what it computed). A localization output also records its file name
  (`legacy_file`), because Agentless consumes single files (`loc_merged_0-0_outputs.jsonl`) and
  each is its own artifact; repair samples (`output_{i}_*`) share their folder's config, i is
  their `sample_idx`. A folder without `args.json` is identified by its name (`source_folder`).
- upstream: every `*.jsonl` path in `args.json` (`start_file`, `loc_file`, `model_loc_file`,
  `retrieval_loc_file`, `filter_file`, ...) that exists beside this folder in the same results
  tree (`<results>/<folder>/<file>`) contributes its config hash under the argument's name, so
  related_elements <- file_level_combined <- (file_level, retrieval) chains like a live run.
  A reference that is not on disk stays only as a path in params.
- levels: a localization file gets one config per level its run computed (agentless_levels),
  chained coarse -> fine: the coarsest takes the upstream above, each finer level has the level
  above it as upstream (`{"file_level": hash}`, `{"related_elements": hash}`); all levels share
  the file's params and differ in component. A reference to the file chains to its finest level.
"""

from __future__ import annotations

import json
from itertools import islice
from pathlib import Path
from typing import Any

from swepipe.errors import InputError
from swepipe.migrate.agentless_levels import flags_decide
from swepipe.migrate.detect import Detected, detect
from swepipe.store.configs import config_row

LEGACY_CODE_VERSION = "legacy"
RUNTIME_ARGS = frozenset({"num_threads", "skip_existing", "target_id"})
_NOT_UPSTREAM = frozenset({"output_file", "output_folder", "raw_output_file"})


class LegacyConfigs:
    """Config rows for legacy files, memoized per (file, component)."""

    def __init__(self) -> None:
        self._args: dict[Path, dict[str, Any] | None] = {}
        self._rows: dict[tuple[Path, str, bool], dict[str, Any]] = {}
        self._active: set[Path] = set()
        self._peeked: dict[Path, Detected | None] = {}

    def args_for(self, folder: Path) -> dict[str, Any] | None:
        if folder not in self._args:
            path = folder / "args.json"
            args = None
            if path.is_file():
                try:
                    args = json.loads(path.read_text())
                except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                    raise InputError(f"unreadable args.json ({exc})", source=str(path)) from exc
                if not isinstance(args, dict):
                    raise InputError("args.json must hold one JSON object", source=str(path))
            self._args[folder] = args
        return self._args[folder]

    def row_for(self, path: Path, det: Detected, component: str | None = None
                ) -> dict[str, Any]:
        """The `configs` row for a file (`component` overrides the detected one); for a
        localization file of several levels, its finest level's row."""
        if component is None and len(det.levels) > 1:
            return self.level_rows(path, det)[-1][1]
        return self._row(path, det, component or det.component, None)

    def level_rows(self, path: Path, det: Detected) -> list[tuple[str, dict[str, Any]]]:
        """(level, `configs` row) per level of a localization file, chained coarse -> fine."""
        out: list[tuple[str, dict[str, Any]]] = []
        above: tuple[str, str] | None = None  # (component, hash) of the level above
        for level, component in det.levels:
            chain = {above[0].split(".", 1)[1]: above[1]} if above else None
            row = self._row(path, det, component, chain)
            out.append((level, row))
            above = (component, row["config_hash"])
        return out

    def _row(self, path: Path, det: Detected, component: str | None,
             chain: dict[str, str] | None) -> dict[str, Any]:
        assert component and det.stage, f"{det.kind} files have no config"
        key = (path.resolve(), component, det.per_file_config)
        if key not in self._rows:
            folder = path.parent
            args = self.args_for(folder)
            params: dict[str, Any] = ({k: v for k, v in args.items() if k not in RUNTIME_ARGS}
                                      if args is not None else {"source_folder": folder.name})
            if det.per_file_config:
                params["legacy_file"] = path.name
            if chain is not None:
                upstream = chain
            else:
                self._active.add(key[0])
                try:
                    upstream = self._upstream(folder, args or {})
                finally:
                    self._active.discard(key[0])
            self._rows[key] = config_row(det.stage, component, LEGACY_CODE_VERSION, params,
                                         upstream, legacy=True)
        return self._rows[key]

    def _upstream(self, folder: Path, args: dict[str, Any]) -> dict[str, str]:
        upstream: dict[str, str] = {}
        for name, value in sorted(args.items()):
            if name in _NOT_UPSTREAM or not isinstance(value, str) \
                    or not value.endswith(".jsonl"):
                continue
            ref = Path(value)
            candidate = folder.parent / ref.parent.name / ref.name
            if not candidate.is_file() or candidate.resolve() in self._active:
                continue
            det = self.peek(candidate)
            if det is not None and det.component and det.stage:
                upstream[name] = self.row_for(candidate, det)["config_hash"]
        return upstream

    def peek(self, path: Path) -> Detected | None:
        """Detect a referenced file; None when it cannot be told. Its first 50 lines tell its
        kind, and its levels when `args.json` has level flags (every real Agentless run's
        has); without flags the levels come from content, so every line is read: a reference
        must chain to the finest level the file's own import finds."""
        if path not in self._peeked:
            args = self.args_for(path.parent)
            self._peeked[path] = _peek(path, args, 50 if flags_decide(args) else None)
        return self._peeked[path]


def _peek(path: Path, args: dict[str, Any] | None, limit: int | None) -> Detected | None:
    records = []
    try:
        with path.open("rb") as fh:
            for raw in islice(fh, limit):
                try:
                    row = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError):
                    continue
                if isinstance(row, dict):
                    records.append(row)
        return detect(path, records, args) if records else None
    except (OSError, InputError):
        return None
