"""Fixtures that build real things: a DuckDB store file in tmp_path, the shared data folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from swepipe.store import Store

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "store.duckdb", lock_timeout_s=20)


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is absent (clone has no ../shared/data)")
    return SHARED_DATA


@pytest.fixture
def lite_path(shared_data: Path) -> Path:
    return shared_data / "swe-bench-lite" / "test.jsonl"
