"""Export every table as (hive-partitioned) Parquet with a manifest, and import it back.

`DIR/manifest.json` records the schema version, each table's row count, its partition column and
its DuckDB column types; `DIR/<table>/` holds the Parquet files. Import refuses a directory whose
schema version differs from the store's, restores the exact column types from the manifest, and
skips rows whose primary key the store already has, so export -> import is lossless and
re-importing is a no-op. The whole import is one transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from swepipe import __version__
from swepipe.errors import InputError
from swepipe.store.store import Store, list_tables, schema_version_of

# Large tables are split by a column people filter on; every value is a non-null hex or name.
PARTITION_BY = {
    "stage_runs": "stage", "localizations": "config_hash", "patches": "config_hash",
    "selections": "config_hash", "rewards": "stage",
}
_SKIP = {"schema_migrations"}


def _literal(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


@dataclass
class ExchangeReport:
    tables: dict[str, int]
    bytes: int
    schema_version: int


def export_store(store: Store, out_dir: str | Path) -> ExchangeReport:
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()):
        raise InputError("export folder is not empty", source=str(out))
    out.mkdir(parents=True, exist_ok=True)
    manifest: dict = {"swepipe_version": __version__, "tables": {}}
    with store.connect() as conn:
        manifest["schema_version"] = schema_version_of(conn)
        for table in list_tables(conn):
            if table in _SKIP:
                continue
            columns = conn.execute(f'DESCRIBE "{table}"').fetchall()
            count = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            part = PARTITION_BY.get(table) if count else None
            target = out / table
            options = "FORMAT parquet, COMPRESSION zstd"
            if part:
                options += f', PARTITION_BY ("{part}")'
            else:
                target.mkdir()
                target = target / "data.parquet"
            conn.execute(f'COPY "{table}" TO {_literal(target)} ({options})')
            manifest["tables"][table] = {"rows": count, "partition_by": part,
                                         "columns": [[c[0], c[1]] for c in columns]}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2))
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    return ExchangeReport({t: m["rows"] for t, m in manifest["tables"].items()}, size,
                          manifest["schema_version"])


def import_store(store: Store, in_dir: str | Path) -> ExchangeReport:
    src = Path(in_dir)
    manifest_path = src / "manifest.json"
    if not manifest_path.is_file():
        raise InputError("no manifest.json (not a swepipe export)", source=str(src))
    try:
        manifest = json.loads(manifest_path.read_text())
        tables = manifest["tables"]
        version = manifest["schema_version"]
    except (json.JSONDecodeError, KeyError) as exc:
        raise InputError(f"unreadable manifest: {exc}", source=str(manifest_path)) from exc
    imported: dict[str, int] = {}
    with store.transaction() as conn:
        have = schema_version_of(conn)
        if version != have:
            raise InputError(f"export has schema version {version}, the store has {have}",
                             source=str(manifest_path))
        for table, meta in tables.items():
            if not meta["rows"]:
                continue
            files = src / table
            if not files.is_dir():
                raise InputError(f"table folder {table}/ is missing", source=str(src))
            casts = ", ".join(f'CAST("{name}" AS {kind}) AS "{name}"'
                              for name, kind in meta["columns"])
            before = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            conn.execute(
                f'INSERT OR IGNORE INTO "{table}" BY NAME SELECT {casts} FROM read_parquet('
                f"{_literal(files / '**' / '*.parquet')}, hive_partitioning = true, "
                "hive_types_autocast = false)")
            imported[table] = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0] - before
    return ExchangeReport(imported, 0, version)

