"""CLI: `predictions` (SWE-bench harness predictions from a selection config)."""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_predictions(args: argparse.Namespace) -> int:
    from swepipe.select.predictions import write_predictions
    from swepipe.store.store import Store

    print(write_predictions(Store(args.store, create=False), args.config, args.out,
                            model_name=args.model_name))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("predictions", help="write SWE-bench harness predictions (JSONL) from "
                                           "the current selections of a selection config")
    p.add_argument("--config", required=True, metavar="HASH",
                   help="selection config hash or a unique prefix of it")
    p.add_argument("out", type=Path, metavar="OUT.jsonl")
    p.add_argument("--model-name", metavar="NAME",
                   help="model_name_or_path value (default: swepipe-<component>-<hash12>)")
    p.set_defaults(handler=cmd_predictions)
