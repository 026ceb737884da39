"""CLI: `coverage` (lines of changed files executed by generated tests, into `test_coverage`)."""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_coverage(args: argparse.Namespace) -> int:
    from swepipe import event_loop
    from swepipe.execute.coverage import CoverageConfig, measure_coverage
    from swepipe.execute.sandbox import LocalSandbox
    from swepipe.store.store import Store

    settings = CoverageConfig(timeout_s=args.timeout, concurrency=args.concurrency)
    report = event_loop.run(measure_coverage(Store(args.store), LocalSandbox(),
                                          Path(args.repos_dir), Path(args.cache_dir),
                                          config=args.config, settings=settings))
    print(report)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("coverage", help="run generated tests of current candidates under "
                                        "coverage.py into test_coverage (changed_line_coverage)")
    p.add_argument("--repos-dir", required=True, help="directory of clones named owner__name")
    p.add_argument("--cache-dir", default=".swepipe-cache/checkouts", help="checkout cache")
    p.add_argument("--config", metavar="HASH", help="only this generation config (hash or prefix)")
    p.add_argument("--concurrency", type=int, default=2, help="candidates measured at once")
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per test script")
    p.set_defaults(handler=cmd_coverage)
