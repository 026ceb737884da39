"""CLI: `swepipe run CONFIG [key=value ...] [--instances ...] [--limit N] [--show] [--retry-failed]`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from rich.console import Console
from rich.live import Live
from rich.table import Table

from swepipe import event_loop
from swepipe.experiments.config import PipelineConfig, build_stages, expand_hypers, load_config
from swepipe.experiments.runner import InstanceOutcome, Runner
from swepipe.store.store import Store
from swepipe.types import STAGES


def progress_table(runner: Runner, total: int) -> Table:
    table = Table(title=f"run {runner.run_id}: {runner.config.name} on {total} instances")
    for column in ("stage", "config", "done", "from cache", "failed", "in flight"):
        table.add_column(column)
    for stage in STAGES:
        c = runner.counts[stage]
        table.add_row(stage, runner.stages[stage].hash[:12], str(c.done), str(c.cached),
                      str(c.failed), str(c.in_flight))
    t = runner.token_totals()
    table.caption = (f"model calls {t['calls']} (+{t['cache_hits']} from cache), "
                     f"tokens {t['prompt_tokens']:,} in / {t['completion_tokens']:,} out")
    return table


async def run_config(store: Store, config: PipelineConfig, *,
                     live: bool = True) -> tuple[list[InstanceOutcome], Runner]:
    async with Runner.open(store, config) as runner:
        instances = runner.instances()
        console = Console(stderr=True)
        if live and console.is_terminal:
            with Live(progress_table(runner, len(instances)), console=console,
                      refresh_per_second=4) as view:
                task = asyncio.create_task(runner.run(instances))
                while not task.done():
                    view.update(progress_table(runner, len(instances)))
                    await asyncio.wait({task}, timeout=0.25)
                outcomes = task.result()
                view.update(progress_table(runner, len(instances)))
        else:
            outcomes = await runner.run(instances)
            console.print(progress_table(runner, len(instances)))
    return outcomes, runner


def show(config: PipelineConfig) -> None:
    for variant in expand_hypers(config):
        stages = build_stages(variant)
        print(json.dumps(variant.model_dump(mode="json", exclude={"hypers"}), indent=2))
        for stage, built in stages.items():
            print(f"{stage:>9}: {built.config.component:<28} {built.hash}")


def cmd_run(args: argparse.Namespace) -> int:
    overrides = list(args.overrides)
    if args.instances:
        overrides.append(f"instances={json.dumps(args.instances)}")
    if args.limit is not None:
        overrides.append(f"limit={args.limit}")
    if args.retry_failed:
        overrides.append("retry_failed=true")
    config = load_config(args.config, overrides)
    if args.show:
        show(config)
        return 0
    store = Store(args.store)
    failed = 0
    for variant in expand_hypers(config):
        if args.executor == "ray":
            from swepipe.experiments.ray_executor import run_with_ray

            outcomes = run_with_ray(store, variant, workers=args.workers)
        else:
            outcomes, _ = event_loop.run(run_config(store, variant))
        failed += sum(o.failed for o in outcomes)
    if failed:
        print(f"{failed} instance(s) had a failed stage; see `swepipe status`", file=sys.stderr)
    return 1 if failed else 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a pipeline config (TOML/YAML or preset) over a dataset")
    p.add_argument("config", help="config file, or a preset name: agentless, codemonkeys")
    p.add_argument("overrides", nargs="*", metavar="key=value",
                   help="overrides, e.g. generate.samples=4 cache.localize=recompute")
    p.add_argument("--instances", nargs="+", help="only these instance ids")
    p.add_argument("--limit", type=int, help="at most N instances")
    p.add_argument("--show", action="store_true", help="print the resolved config and hashes")
    p.add_argument("--retry-failed", action="store_true", help="recompute failed results")
    p.add_argument("--executor", choices=["local", "ray"], default="local")
    p.add_argument("--workers", type=int, default=2, help="Ray workers (with --executor ray)")
    p.set_defaults(handler=cmd_run)
