"""CLI: `import-evaluation` (SWE-bench harness results -> verdicts on candidates)."""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_import_evaluation(args: argparse.Namespace) -> int:
    from swepipe.evaluation.importer import import_evaluation
    from swepipe.store.store import Store

    store = Store(args.store, create=False)
    for path in args.paths:
        print(import_evaluation(store, path, name=args.name, predictions=args.predictions,
                                dataset=args.dataset))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import-evaluation",
        help="SWE-bench harness results (log tree, run summary, leaderboard results.json, "
             "legacy logs folder) -> verdicts on candidates, graded by swepipe too")
    p.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    p.add_argument("--name", help="evaluation name (default: the run id or folder name)")
    p.add_argument("--predictions", type=Path, metavar="FILE",
                   help="the predictions that were evaluated (their patches become candidates)")
    p.add_argument("--dataset", help="grade against this dataset's instance revisions; for a "
                                     "leaderboard, the dataset whose other instances count "
                                     "unresolved")
    p.set_defaults(handler=cmd_import_evaluation)
