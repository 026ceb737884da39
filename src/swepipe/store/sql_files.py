"""Where the SQL lives: numbered `migrations/*.sql` and `queries/**/*.sql` at the project root.

They are found next to the source tree (editable installs, the supported way to install), or
under `$SWEPIPE_SQL_DIR` when set.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from swepipe.errors import StoreError


def sql_root() -> Path:
    override = os.environ.get("SWEPIPE_SQL_DIR")
    root = Path(override) if override else Path(__file__).resolve().parents[3]
    if not (root / "migrations").is_dir():
        raise StoreError(f"cannot find the migrations/ folder under {root}; install swepipe "
                         "editable (pip install -e .) or set SWEPIPE_SQL_DIR")
    return root


def migrations_dir() -> Path:
    return sql_root() / "migrations"


@cache
def load_query(name: str) -> str:
    """The text of `queries/<name>.sql` (name may contain a subfolder, e.g. `store/status`)."""
    path = sql_root() / "queries" / f"{name}.sql"
    if not path.is_file():
        raise StoreError(f"no query file {path}")
    return path.read_text()
