"""CLI: `ingest`."""

from __future__ import annotations

import argparse


def cmd_ingest(args: argparse.Namespace) -> int:
    from swepipe.datasets.ingest import ingest_file
    from swepipe.store.store import Store

    store = Store(args.store)
    for path in args.paths:
        print(ingest_file(store, path, args.dataset))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ingest", help="load SWE-bench rows (JSONL, JSON, CSV, Parquet; .gz ok)")
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.add_argument("--dataset", help="dataset name (default: the file name without extensions)")
    p.set_defaults(handler=cmd_ingest)
