"""`swepipe demo`: the README's main command. Needs no network and no model.

Today it creates a local store, ingests the SWE-bench Lite rows bundled in the package, and
prints the store's status. The pipeline stages join it as they land (see the README).
"""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

from swepipe.datasets.ingest import ingest_file
from swepipe.store.commands import cmd_status
from swepipe.store.store import Store


def bundled(name: str) -> Path:
    """Path of a data file shipped inside the package."""
    return Path(str(resources.files("swepipe") / "data" / name))


def run_demo(store: Store) -> None:
    print(f"store: {store.path}")
    print(ingest_file(store, bundled("swe-bench-lite-test.jsonl.gz"), "swe-bench-lite"))


def cmd_demo(args: argparse.Namespace) -> int:
    run_demo(Store(args.store))
    return cmd_status(args)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the offline demo on bundled data (no network, no model)")
    p.set_defaults(handler=cmd_demo)
