"""Outside candidate sets: SWE-bench predictions files, and gold-injected copies of a candidate set.

`import_predictions(store, FILE, name)`: any SWE-bench predictions file (JSONL or a JSON list of
`{instance_id, model_patch, model_name_or_path}`, or a JSON object keyed by instance id, as the
harness and leaderboard submissions write them) becomes a generation result with one candidate
(sample 0) per instance, under a legacy config (component `predictions`, params `{name}` plus the
file's checksum, so a changed file is a new config). Its rewards then compute and compare in SQL
with everything else. Rows for instances the store does not hold are skipped and counted; a row
without `instance_id` fails the whole file, naming the line. Importing the same file again is a
no-op.

`inject_gold(store, config_hash)`: a new candidate set (component `rewards.gold_injected`,
upstream = the source config) holding the source's candidates plus the gold patch at a position
drawn per instance from its id, marked `meta.gold = true`. Run a selector on it and
`gold_injection_accuracy` says how often the selector picks the gold patch.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from swepipe.errors import InputError
from swepipe.hashing import file_checksum
from swepipe.patch.diff import parse_diff
from swepipe.store.codecs import from_rows, to_rows
from swepipe.store.configs import config_row, register_configs
from swepipe.store.sql_files import load_query
from swepipe.store.store import Store, insert_rows
from swepipe.store.writer import StageCommit, write_units
from swepipe.types import Patch

PREDICTIONS_FORMAT = "swebench_predictions"


@dataclass
class ImportReport:
    config_hash: str
    imported: int
    unchanged: int
    unknown: int

    def __str__(self) -> str:
        return (f"config {self.config_hash[:12]}: {self.imported} predictions imported, "
                f"{self.unchanged} already there, {self.unknown} for instances not in the store")


def read_predictions(path: Path) -> list[dict[str, Any]]:
    """The rows of a predictions file, each with `instance_id` and `model_patch` (may be '')."""
    text = path.read_text(encoding="utf-8")
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")) and not path.suffix == ".jsonl":
        data = json.loads(text)
        rows = list(data.values()) if isinstance(data, dict) else data
        numbered = [(i + 1, r) for i, r in enumerate(rows)]
    else:
        numbered = []
        for n, line in enumerate(text.splitlines(), 1):
            if line.strip():
                try:
                    numbered.append((n, json.loads(line)))
                except json.JSONDecodeError as exc:
                    raise InputError(f"not JSON: {exc.msg}", source=str(path), line=n) from exc
    out = []
    for n, row in numbered:
        if not isinstance(row, dict) or not isinstance(row.get("instance_id"), str):
            raise InputError("row has no instance_id", source=str(path), line=n,
                             field="instance_id")
        patch = row.get("model_patch") or ""
        if not isinstance(patch, str):
            raise InputError("model_patch is not a string", source=str(path), line=n,
                             field="model_patch")
        out.append({**row, "model_patch": patch})
    return out


def _patch(diff: str, meta: dict[str, Any]) -> Patch:
    try:
        files = [c.path for c in parse_diff(diff)]
        status = "ok" if diff.strip() else "empty"
        reason = None
    except InputError as exc:
        files, status, reason = [], "unparseable", str(exc)
    return Patch(diff=diff, sample_idx=0, status=status, reason=reason, files=files, meta=meta)


def import_predictions(store: Store, path: str | Path, name: str) -> ImportReport:
    """Import a predictions file as a generation candidate set (see the module docstring)."""
    path = Path(path)
    rows = read_predictions(path)
    with store.transaction() as conn:
        return write_predictions(conn, rows, name, file_checksum(path), source=path)


def write_predictions(conn: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]], name: str,
                      checksum: str, *, source: Path | None = None) -> ImportReport:
    """Write predictions rows as a candidate set inside the caller's transaction (`checksum`
    identifies their content; `source` is recorded in `legacy_imports` when given)."""
    config = config_row("generate", "predictions", "1", {"name": name, "sha256": checksum},
                        legacy=True)
    ids = [r["instance_id"] for r in rows]
    hashes = dict(conn.execute(load_query("rewards/latest_instance_hashes"),
                               {"ids": ids}).fetchall())
    units = []
    for row in rows:
        if row["instance_id"] not in hashes:
            continue
        meta = {k: v for k, v in row.items() if k not in ("instance_id", "model_patch")}
        units.append(StageCommit(stage="generate", config_hash=config["config_hash"],
                                 instance_id=row["instance_id"],
                                 instance_hash=hashes[row["instance_id"]], status="done",
                                 rows=to_rows("generate", [_patch(row["model_patch"], meta)])))
    register_configs(conn, [config])
    attempts = write_units(conn, units)
    imported = sum(a is not None for a in attempts)
    if source is not None:
        insert_rows(conn, "legacy_imports", [{
            "source_path": str(source.resolve()), "checksum": checksum,
            "format": PREDICTIONS_FORMAT, "rows": json.dumps({"patches": imported})}],
            ignore_existing=True)
    return ImportReport(config["config_hash"], imported, len(units) - imported,
                        len(rows) - len(units))


def inject_gold(store: Store, config_hash: str, *, seed: int = 0) -> str:
    """A copy of a generation config's current candidates with the gold patch inserted; returns
    the new config's hash (see the module docstring)."""
    source = store.query(load_query("rewards/candidates_with_gold"),
                         {"config_hash": config_hash}).to_pylist()
    if not source:
        raise InputError(f"no current generation results for config {config_hash!r}",
                         field="config")
    config = config_row("generate", "rewards.gold_injected", "1", {"seed": seed},
                        {"generate": config_hash})
    by_instance: dict[str, list[dict[str, Any]]] = {}
    for row in source:
        by_instance.setdefault(row["instance_id"], []).append(row)
    units = []
    for instance_id, rows in sorted(by_instance.items()):
        patches = from_rows("generate", [r for r in rows if r["diff"] is not None])
        gold = _patch(rows[0]["gold_patch"], {"gold": True})
        # position from the instance id: reproducible, and not always first or last
        pos = random.Random(f"{seed}:{instance_id}").randrange(len(patches) + 1)
        patches.insert(pos, gold)
        patches = [p.model_copy(update={"sample_idx": i}) for i, p in enumerate(patches)]
        units.append(StageCommit(stage="generate", config_hash=config["config_hash"],
                                 instance_id=instance_id, instance_hash=rows[0]["instance_hash"],
                                 status="done", rows=to_rows("generate", patches)))
    with store.transaction() as conn:
        register_configs(conn, [config])
        write_units(conn, units)
    return config["config_hash"]
