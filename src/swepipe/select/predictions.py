"""SWE-bench harness predictions from the current selections of one selection config.

`write_predictions(store, "3fa2c1", "preds.jsonl")` writes one JSON object per line,
`{"instance_id", "model_name_or_path", "model_patch"}` (exactly the harness keys), one line per
instance that has a current selection under that config, sorted by instance id. The current
selection of an instance is its latest `done` attempt (as the stage cache reads it). An empty
chosen patch is written as `""`; the harness counts it as not resolved.

The config is named by its hash or any unique prefix of it; an unknown or ambiguous prefix is an
`InputError` listing the candidates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from swepipe.errors import InputError
from swepipe.store.sql_files import load_query
from swepipe.store.store import Store

HARNESS_KEYS = ("instance_id", "model_name_or_path", "model_patch")

@dataclass
class PredictionsReport:
    config_hash: str
    path: Path
    written: int
    empty: int

    def __str__(self) -> str:
        return (f"config {self.config_hash[:12]}: {self.written} predictions written to "
                f"{self.path} ({self.empty} with an empty patch)")


def resolve_config(store: Store, ref: str) -> tuple[str, str | None]:
    """(full hash, component) of the selection config `ref` names (hash or unique prefix)."""
    ref = ref.strip().lower()
    if not ref:
        raise InputError("empty config hash", field="config")
    rows = store.query(load_query("select/predictions_matching_configs"), {"prefix": ref},
                       read_only=True).to_pylist()
    if not rows:
        raise InputError(f"no selection config matches {ref!r} (see `swepipe status`)",
                         field="config")
    if len(rows) > 1:
        shown = ", ".join(r["config_hash"][:16] for r in rows[:5])
        more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
        raise InputError(f"{ref!r} is ambiguous: {len(rows)} selection configs match "
                         f"({shown}{more}); give more of the hash", field="config")
    return rows[0]["config_hash"], rows[0]["component"]


def predictions(store: Store, config_hash: str, model_name: str) -> list[dict[str, str]]:
    """The harness rows of a (full) selection config hash."""
    rows = store.query(load_query("select/predictions_current"), {"config_hash": config_hash},
                       read_only=True).to_pylist()
    return [{"instance_id": r["instance_id"], "model_name_or_path": model_name,
             "model_patch": r["patch"] or ""} for r in rows]


def write_predictions(store: Store, ref: str, out: str | Path, *,
                      model_name: str | None = None) -> PredictionsReport:
    """Write the predictions file of selection config `ref` (see the module docstring).
    `model_name` defaults to `swepipe-<component>-<hash[:12]>`."""
    config_hash, component = resolve_config(store, ref)
    name = model_name or f"swepipe-{component or 'select'}-{config_hash[:12]}"
    rows = predictions(store, config_hash, name)
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return PredictionsReport(config_hash, path, len(rows),
                             sum(not r["model_patch"].strip() for r in rows))
