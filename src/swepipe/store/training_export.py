"""`swepipe export-sequences DIR`: model calls as training data (Parquet, JSONL on request).

One row per (call, choice): OpenAI `messages` with the completion as the last assistant turn,
ids (run, experiment, instance, stage, config, sample, trajectory, turn), model and weights
revision, usage, token ids / logprobs when the server returned them, and the rewards attached to
the call. See `queries/store/export_sequences.sql` for the exact shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq

from swepipe.store.sql_files import load_query
from swepipe.store.store import Store


@dataclass
class SequenceFilter:
    experiment: str | None = None
    stage: str | None = None
    config: str | None = None
    """A config hash or a prefix of one."""
    include_cached: bool = False


def export_sequences(store: Store, out_dir: str | Path, flt: SequenceFilter | None = None, *,
                     jsonl: bool = False) -> tuple[int, list[Path]]:
    """Write `sequences.parquet` (and `sequences.jsonl`) under `out_dir`. Returns rows, paths."""
    flt = flt or SequenceFilter()
    table = store.query(load_query("store/export_sequences"), {
        "experiment": flt.experiment, "stage": flt.stage, "config": flt.config,
        "include_cached": flt.include_cached}, read_only=True)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "sequences.parquet"]
    pq.write_table(table, paths[0], compression="zstd")
    if jsonl:
        paths.append(out / "sequences.jsonl")
        with paths[1].open("w") as fh:
            for row in table.to_pylist():
                fh.write(json.dumps(row, default=str, ensure_ascii=False) + "\n")
    return table.num_rows, paths
