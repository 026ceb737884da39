"""CLI: `status`, `sql`, `export`, `import`, `store info`.

Only the parser is built at import; each handler imports what it uses (start-up time).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from swepipe.errors import InputError

if TYPE_CHECKING:
    import pyarrow as pa

    from swepipe.store.store import Store


def store_from(args: argparse.Namespace, *, create: bool = True) -> Store:
    from swepipe.store.store import Store

    return Store(args.store, create=create)


def print_table(table: pa.Table, title: str | None = None) -> None:
    """Render an Arrow table on the terminal."""
    from rich.console import Console
    from rich.table import Table

    out = Table(title=title, show_lines=False)
    for name in table.column_names:
        out.add_column(name)
    for row in table.to_pylist():
        out.add_row(*["" if v is None else str(v) for v in row.values()])
    console = Console()
    if not console.is_terminal:  # piped or redirected: full rows, not cut to 80 columns
        wide = console.options.update_width(1_000_000)
        console = Console(width=console.measure(out, options=wide).maximum)
    console.print(out)


def cmd_status(args: argparse.Namespace) -> int:
    from swepipe.store.sql_files import load_query

    store = store_from(args, create=False)
    table = store.query(load_query("store/status"), read_only=True)
    if table.num_rows == 0:
        print(f"{store.path}: empty store (no datasets ingested)")
    else:
        print_table(table, title=f"{store.path}")
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    store = store_from(args, create=False)
    try:
        table = store.query(args.query, read_only=True)
    except Exception as exc:  # noqa: BLE001 - a SQL error is the user's input
        import duckdb

        if isinstance(exc, duckdb.Error):
            raise InputError(f"SQL error: {exc}".splitlines()[0]) from exc
        raise
    if args.format == "table":
        print_table(table)
    elif args.format == "json":  # one JSON document: an array of row objects
        json.dump(table.to_pylist(), sys.stdout, default=str, ensure_ascii=False, indent=1)
        print()
    elif args.format == "jsonl":
        for row in table.to_pylist():
            print(json.dumps(row, default=str, ensure_ascii=False))
    elif args.format == "csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, sys.stdout.buffer)
    else:
        if not args.output:
            raise InputError("--format parquet needs --output FILE")
        import pyarrow.parquet as pq

        pq.write_table(table, args.output)
        print(f"wrote {table.num_rows} rows to {args.output}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from swepipe.store.exchange import export_store

    report = export_store(store_from(args, create=False), args.dir)
    rows = sum(report.tables.values())
    print(f"exported {rows} rows from {len(report.tables)} tables to {args.dir} "
          f"({report.bytes / 1e6:.1f} MB, schema version {report.schema_version})")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from swepipe.store.exchange import import_store

    report = import_store(store_from(args), args.dir)
    for table, count in sorted(report.tables.items()):
        print(f"{table}: {count} new rows")
    return 0


def cmd_store_info(args: argparse.Namespace) -> int:
    from swepipe.store.migrations import code_schema_version
    from swepipe.store.store import list_tables, schema_version_of

    store = store_from(args, create=False)
    with store.connect(read_only=True) as conn:
        version = schema_version_of(conn)
        counts = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]
                  for t in list_tables(conn)}
    size = Path(store.path).stat().st_size
    print(f"store: {store.path}\nsize: {size / 1e6:.1f} MB\n"
          f"schema version: {version} (this swepipe: {code_schema_version()})")
    for table, count in counts.items():
        print(f"  {table:<20} {count:>10}")
    return 0


def cmd_export_sequences(args: argparse.Namespace) -> int:
    from swepipe.store.training_export import SequenceFilter, export_sequences

    flt = SequenceFilter(args.experiment, args.stage, args.config, args.include_cached)
    rows, paths = export_sequences(store_from(args, create=False), args.dir, flt, jsonl=args.jsonl)
    print(f"wrote {rows} sequences to {', '.join(map(str, paths))}")
    return 0


def cmd_cost(args: argparse.Namespace) -> int:
    from swepipe.store.cost import cost_notes, cost_table, load_prices

    table = cost_table(store_from(args, create=False), load_prices(args.prices))
    print_table(table, title="tokens and cost (USD) per dataset, stage and config")
    for line in cost_notes(table):
        print(line)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("status", help="done / failed / pending per dataset, stage and config")
    p.set_defaults(handler=cmd_status)

    p = sub.add_parser("sql", help="run a read-only SQL query against the store")
    p.add_argument("query", help="SQL text (the connection is read-only)")
    p.add_argument("--format", choices=["table", "csv", "json", "jsonl", "parquet"],
                   default="table", help="table (default); csv; json: one array of row objects; "
                                         "jsonl: JSON Lines, one object per row; parquet (-o)")
    p.add_argument("--output", "-o", help="output file for --format parquet")
    p.set_defaults(handler=cmd_sql)

    p = sub.add_parser("export", help="write every table as hive-partitioned Parquet + manifest")
    p.add_argument("dir", help="empty or new folder")
    p.set_defaults(handler=cmd_export)

    p = sub.add_parser("import", help="load a folder written by `swepipe export` (lossless)")
    p.add_argument("dir")
    p.set_defaults(handler=cmd_import)

    p = sub.add_parser("export-sequences", help="model calls as training data (Parquet/JSONL)")
    p.add_argument("dir")
    p.add_argument("--experiment", metavar="NAME",
                   help="only calls of runs of this experiment (the config's `name`)")
    p.add_argument("--stage", choices=["localize", "generate", "select"],
                   help="only calls made by this stage")
    p.add_argument("--config", help="config hash or prefix")
    p.add_argument("--include-cached", action="store_true", help="also export cache hits")
    p.add_argument("--jsonl", action="store_true", help="also write sequences.jsonl")
    p.set_defaults(handler=cmd_export_sequences)

    p = sub.add_parser("cost", help="tokens and money per dataset, stage and config")
    p.add_argument("--prices", metavar="FILE",
                   help="USD per million tokens per model (TOML, YAML or JSON; format: "
                        "docs/models.md, \"Prices\"); without it the cost column is blank")
    p.set_defaults(handler=cmd_cost)

    p = sub.add_parser("store", help="store maintenance")
    store_sub = p.add_subparsers(dest="store_command", metavar="SUBCOMMAND", required=True)
    info = store_sub.add_parser("info", help="path, size, schema version and row counts")
    info.set_defaults(handler=cmd_store_info)
