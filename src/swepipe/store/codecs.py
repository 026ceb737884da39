"""How each stage's output becomes rows of its table, and back.

localize -> list[CodePointer] -> `localizations` (one row per pointer)
generate -> list[Patch]       -> `patches` (one row per sample)
select   -> Selection         -> `selections` (one row)
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from swepipe.types import CodePointer, Patch, Selection, StageName

OUTPUT_TABLE: dict[StageName, str] = {
    "localize": "localizations", "generate": "patches", "select": "selections",
}


def to_rows(stage: StageName, value: Any) -> list[dict[str, Any]]:
    """Rows for the stage's output table, without the key columns (the writer adds those)."""
    if stage == "localize":
        return [{"pointer_idx": i, **p.model_dump()} for i, p in enumerate(value)]
    if stage == "generate":
        return [{**p.model_dump(exclude={"meta"}), "content_hash": p.content_hash,
                 "meta": json.dumps(p.meta) if p.meta else None} for p in value]
    if stage == "select":
        scores = [{"sample_idx": k, "score": float(v)} for k, v in sorted(value.scores.items())]
        return [{"chosen_sample_idx": value.chosen_sample_idx, "patch": value.patch,
                 "method": value.method, "scores": scores, "rationale": value.rationale}]
    raise ValueError(f"unknown stage {stage!r}")


def from_rows(stage: StageName, rows: Iterable[Mapping[str, Any]]) -> Any:
    """Rebuild the stage's output from its rows (any order; key columns are ignored)."""
    rows = list(rows)
    if stage == "localize":
        rows.sort(key=lambda r: (r["sample_idx"], r["pointer_idx"]))
        return [CodePointer.model_validate(r, from_attributes=False) for r in rows]
    if stage == "generate":
        rows.sort(key=lambda r: r["sample_idx"])
        return [Patch.model_validate({**r, "meta": json.loads(r["meta"] or "{}")}) for r in rows]
    if stage == "select":
        (row,) = rows
        scores = {s["sample_idx"]: s["score"] for s in row["scores"] or []}
        return Selection(chosen_sample_idx=row["chosen_sample_idx"], patch=row["patch"],
                         method=row["method"], scores=scores, rationale=row["rationale"] or "")
    raise ValueError(f"unknown stage {stage!r}")
