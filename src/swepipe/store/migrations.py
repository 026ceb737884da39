"""Schema versions: numbered SQL files applied in order, one transaction each, with checksums.

`migrations/0001_initial.sql`, `0002_...`: a released file is never edited (its checksum is
recorded and checked on every open); a change is a new file. A store whose schema is newer than
the code is refused, naming both versions.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from swepipe.errors import StoreError
from swepipe.store.sql_files import migrations_dir

_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")

_CREATE_TABLE = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, checksum VARCHAR NOT NULL,
    applied_at TIMESTAMP NOT NULL DEFAULT current_timestamp)"""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available_migrations(folder: Path | None = None) -> list[Migration]:
    folder = folder or migrations_dir()
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _NAME.match(path.name)
        if not match:
            raise StoreError(f"{path}: migration files are named NNNN_name.sql")
        found.append(Migration(int(match.group(1)), path.name, path.read_text()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise StoreError(f"{folder}: two migration files share a number: {versions}")
    return found


def code_schema_version() -> int:
    return max((m.version for m in available_migrations()), default=0)


def applied_migrations(conn: duckdb.DuckDBPyConnection) -> dict[int, tuple[str, str]]:
    exists = conn.execute("SELECT count(*) FROM information_schema.tables "
                          "WHERE table_name = 'schema_migrations'").fetchone()[0]
    if not exists:
        return {}
    rows = conn.execute("SELECT version, name, checksum FROM schema_migrations").fetchall()
    return {v: (name, checksum) for v, name, checksum in rows}


def check_migrations(conn: duckdb.DuckDBPyConnection, path: str) -> list[Migration]:
    """Validate the store against the code; return the migrations still to apply."""
    known = available_migrations()
    applied = applied_migrations(conn)
    newest = max(applied, default=0)
    code_version = max((m.version for m in known), default=0)
    if newest > code_version:
        raise StoreError(f"{path}: the store's schema is version {newest}, newer than this "
                         f"swepipe's version {code_version}; upgrade swepipe to open it")
    for migration in known:
        if migration.version in applied and applied[migration.version][1] != migration.checksum:
            raise StoreError(f"{path}: migration {migration.name} was edited after it was "
                             "applied to this store (checksum differs); add a new migration "
                             "file instead of editing a released one")
    return [m for m in known if m.version not in applied]


def apply_migrations(conn: duckdb.DuckDBPyConnection, path: str) -> list[str]:
    """Apply every pending migration, each in its own transaction. Returns the names applied."""
    conn.execute(_CREATE_TABLE)
    done = []
    for migration in check_migrations(conn, path):
        conn.execute("BEGIN TRANSACTION")
        try:
            conn.execute(migration.sql)
            conn.execute("INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)",
                         [migration.version, migration.name, migration.checksum])
            conn.execute("COMMIT")
        except duckdb.Error as exc:
            conn.execute("ROLLBACK")
            raise StoreError(f"{path}: migration {migration.name} failed: {exc}") from exc
        done.append(migration.name)
    return done
