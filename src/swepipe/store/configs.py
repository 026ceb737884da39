"""Recording configs: every config hash that keys rows has a `configs` row saying what it is."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import duckdb

from swepipe.hashing import canonical_json, config_hash
from swepipe.types import StageName


def config_row(stage: StageName, component: str, code_version: str, params: Mapping[str, Any],
               upstream: Mapping[str, str] | None = None, *, legacy: bool = False) -> dict[str, Any]:
    upstream = dict(upstream or {})
    return {"config_hash": config_hash(component, code_version, params, upstream),
            "stage": stage, "component": component, "code_version": code_version,
            "params": canonical_json(dict(params)), "upstream": json.dumps(upstream),
            "legacy": legacy}


def register_configs(conn: duckdb.DuckDBPyConnection, rows: list[dict[str, Any]]) -> None:
    """Insert config rows; a hash already recorded is left as it is (same hash, same config)."""
    from swepipe.store.store import insert_rows

    insert_rows(conn, "configs", rows, ignore_existing=True)
