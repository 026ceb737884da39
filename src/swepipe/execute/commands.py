"""CLI: `evaluate` (gold tests of current candidates into `test_runs`)."""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_evaluate(args: argparse.Namespace) -> int:
    from swepipe import event_loop
    from swepipe.execute.docker import DockerConfig
    from swepipe.execute.evaluate import evaluate
    from swepipe.execute.executors import Executors
    from swepipe.store.store import Store

    executors = Executors(args.executor, docker=DockerConfig(pull=args.docker_pull))
    report = event_loop.run(evaluate(Store(args.store), executors,
                                  Path(args.repos_dir) if args.repos_dir else None,
                                  Path(args.cache_dir), config=args.config,
                                  concurrency=args.concurrency))
    print(f"ran the gold tests of {report.candidates} candidates: {report.resolved} resolved, "
          f"{report.errors} did not apply or could not run")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="run gold tests of current candidates into test_runs")
    p.add_argument("--repos-dir", help="directory of clones named owner__name (required with "
                   "--executor local; docker images hold the repository at /testbed)")
    p.add_argument("--cache-dir", default=".swepipe-cache/checkouts", help="checkout cache")
    p.add_argument("--config", help="only this generation config (hash or prefix)")
    p.add_argument("--concurrency", type=int, default=2, help="candidates tested at once")
    p.add_argument("--executor", choices=["local", "docker"], default="local",
                   help="local sandbox, or each instance's SWE-bench image (sweb.eval.x86_64.<id>)")
    p.add_argument("--docker-pull", action="store_true",
                   help="pull missing images from Docker Hub (swebench/sweb.eval.x86_64.*)")
    p.set_defaults(handler=cmd_evaluate)
