"""`swepipe cost`: tokens and money per dataset, stage and config.

Prices are USD per million tokens per model, from a price file (TOML, YAML or JSON; the format is
documented in docs/models.md, "Prices"):

    [models."gpt-4o"]
    input_per_mtok = 2.5
    output_per_mtok = 10.0
    cached_input_per_mtok = 1.25

Each call is counted in one row (queries/store/cost.sql), so the totals are the rows' sums.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pyarrow as pa
import yaml
from pydantic import BaseModel, ValidationError

from swepipe.errors import InputError
from swepipe.store.sql_files import load_query
from swepipe.store.store import Store, registered


class Price(BaseModel):
    input_per_mtok: float
    """USD per million prompt tokens (not served from the prefix cache)."""
    output_per_mtok: float
    """USD per million completion tokens."""
    cached_input_per_mtok: float | None = None
    """USD per million cached prompt tokens; None = same as input."""


class PriceTable(BaseModel):
    models: dict[str, Price] = {}


def load_prices(path: str | Path | None) -> PriceTable:
    if path is None:
        return PriceTable()
    path = Path(path)
    try:
        text = path.read_text()
        data = tomllib.loads(text) if path.suffix == ".toml" else \
            json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        return PriceTable.model_validate(data)
    except (OSError, ValueError, yaml.YAMLError, ValidationError) as exc:
        raise InputError(f"cannot read the price table: {exc}".splitlines()[0],
                         source=str(path)) from exc


def cost_table(store: Store, prices: PriceTable) -> pa.Table:
    rows = [{"model": m, **p.model_dump()} for m, p in prices.models.items()]
    price_arrow = pa.Table.from_pylist(rows, schema=pa.schema([
        ("model", pa.string()), ("input_per_mtok", pa.float64()),
        ("output_per_mtok", pa.float64()), ("cached_input_per_mtok", pa.float64())]))
    with store.connect(read_only=True) as conn:
        with registered(conn, _prices=price_arrow):
            return conn.sql(load_query("store/cost")).to_arrow_table()


def cost_notes(table: pa.Table) -> list[str]:
    """The totals of a `cost_table`, and which models have no price (their cost is blank)."""
    rows = table.to_pylist()
    costs = [r["cost_usd"] for r in rows if r["cost_usd"] is not None]
    total = (f"total: {sum(r['calls'] for r in rows):,} calls, "
             f"{sum(r['prompt_tokens'] or 0 for r in rows):,} prompt and "
             f"{sum(r['completion_tokens'] or 0 for r in rows):,} completion tokens"
             + (f", {sum(costs):.4f} USD" if costs else ""))
    unpriced = sorted({r["model"] for r in rows if r["cost_usd"] is None})
    notes = [total]
    if unpriced:
        notes.append(f"cost_usd is blank for models without a price ({', '.join(unpriced)}): "
                     "pass --prices FILE (format: docs/models.md, \"Prices\")")
    return notes
