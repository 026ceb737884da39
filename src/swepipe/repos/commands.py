"""CLI: `index du` (what the retrieval index stores take) and `index gc` (drop what no stored
instance uses)."""

from __future__ import annotations

import argparse
from pathlib import Path


def _root(args: argparse.Namespace) -> Path:
    from swepipe.localize.retrieval import default_index_root

    return Path(args.index_dir) if args.index_dir else default_index_root()


def cmd_index_du(args: argparse.Namespace) -> int:
    from swepipe.repos.index_admin import format_usage, index_usage

    print(format_usage(index_usage(_root(args))))
    return 0


def cmd_index_gc(args: argparse.Namespace) -> int:
    from swepipe.repos.index_admin import collect_garbage_for
    from swepipe.store.store import Store

    print(collect_garbage_for(Store(args.store, create=False), _root(args)))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("index", help="retrieval index stores: size, garbage collection")
    cmds = p.add_subparsers(dest="index_command", metavar="ACTION", required=True)
    help_dir = "index root (default: $SWEPIPE_CACHE_DIR/indexes or ~/.cache/swepipe/indexes)"
    du = cmds.add_parser("du", help="views, segments and bytes per repository store")
    du.add_argument("--index-dir", type=Path, help=help_dir)
    du.set_defaults(handler=cmd_index_du)
    gc = cmds.add_parser("gc", help="drop views of commits no instance in the store has, "
                                    "and the segment contents only they used")
    gc.add_argument("--index-dir", type=Path, help=help_dir)
    gc.set_defaults(handler=cmd_index_gc)
