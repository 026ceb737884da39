"""CLI: `swepipe run CONFIG [key=value ...] [--instances ...] [--limit N] [--show] [--retry-failed]`.

The runner, the components and rich are imported by the handler, not here: building the parser
must stay fast.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.table import Table

    from swepipe.execute.executors import Executors
    from swepipe.experiments.config import PipelineConfig
    from swepipe.experiments.runner import InstanceOutcome, Runner
    from swepipe.store.store import Store


def progress_table(runner: Runner, total: int) -> Table:
    from rich.table import Table

    from swepipe.types import STAGES

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


async def run_config(store: Store, config: PipelineConfig, *, live: bool = True,
                     executors: Executors | None = None) -> tuple[list[InstanceOutcome], Runner]:
    import asyncio

    from rich.console import Console
    from rich.live import Live

    from swepipe.experiments.runner import Runner

    async with Runner.open(store, config, executors=executors) as runner:
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


def resolved(config: PipelineConfig) -> dict:
    """The run's settings and, per stage, exactly what its hash is taken over (component
    defaults included), the hash, and the component's other fields: runtime settings and fields
    added later while at their default (neither enters the hash)."""
    from swepipe.experiments.config import build_stages
    from swepipe.types import STAGES

    stages = {}
    for stage, built in build_stages(config).items():
        hashed = {*built.config.identity(), "component", "code_version"}
        stages[stage] = {"hash": built.hash, "hashed": {
            "component": built.config.component, "code_version": built.config.code_version,
            "params": built.params, "upstream": built.upstream},
            "not_hashed": built.config.model_dump(mode="json", exclude=hashed)}
    settings = config.model_dump(mode="json", exclude={"hypers", *STAGES})
    return {"settings": settings, "stages": stages}


def show(config: PipelineConfig) -> None:
    from swepipe.experiments.config import expand_hypers, grid_labels
    from swepipe.models.redact import redact_text

    for label, variant in zip(grid_labels(config), expand_hypers(config)):
        view = resolved(variant)
        print(f"== {label}")
        print(redact_text(json.dumps(view, indent=2)))  # endpoint URLs may hold credentials
        for stage, built in view["stages"].items():
            print(f"{stage:>9}: {built['hashed']['component']:<28} {built['hash']}")


# `a.b=value`: what an override looks like (instance ids, paths and options never do)
OVERRIDE = re.compile(r"[A-Za-z_][\w.-]*=")


def is_override(token: str) -> bool:
    return OVERRIDE.match(token) is not None


class InstancesAction(argparse.Action):
    """`--instances A B` collects ids; a `key=value` after them is an override, not an id."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: list[str], option_string: str | None = None) -> None:
        ids = [v for v in values if not is_override(v)]
        if not ids:
            parser.error(f"{option_string} needs at least one instance id")
        namespace.instances = [*(namespace.instances or []), *ids]
        namespace.late_overrides = [*namespace.late_overrides,
                                    *(v for v in values if is_override(v))]


def take_overrides(args: argparse.Namespace, extras: list[str]) -> list[str]:
    """Overrides written after an option (`--limit 20 model.name=x`) argparse leaves over; the
    rest are returned as unrecognized."""
    args.late_overrides = [*args.late_overrides, *(e for e in extras if is_override(e))]
    return [e for e in extras if not is_override(e)]


def cmd_run(args: argparse.Namespace) -> int:
    from swepipe.errors import InputError
    from swepipe.experiments.config import load_config
    from swepipe.store.store import Store

    if is_override(args.config):
        raise InputError(f"the first argument is the config (a file or preset name), not the "
                         f"override {args.config!r}", field="config")
    overrides = [*args.overrides, *args.late_overrides]
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
    failed = run_pipeline(Store(args.store), config, executor=args.executor,
                          workers=args.workers, chunk_size=args.chunk_size)
    return 1 if failed else 0


def run_pipeline(store: Store, config: PipelineConfig, *, executor: str = "local",
                 workers: int = 2, chunk_size: int | None = None) -> int:
    """Run every config of the grid: inputs checked first, live progress, and each failed
    result's stored error. Returns how many instances had a failed stage."""
    from swepipe import event_loop
    from swepipe.experiments.config import build_stages, expand_hypers, grid_labels
    from swepipe.experiments.preflight import check_run, docker_executors, failure_lines

    variants, probed, shared = expand_hypers(config), set(), {}
    for variant in variants:  # every config of the grid is checked before any runs
        check_run(store, variant, build_stages(variant), probed=probed,
                  executors=docker_executors(variant, shared))
    failed = 0
    for label, variant in zip(grid_labels(config), variants):
        if len(variants) > 1:
            print(f"== {label}", file=sys.stderr)
        if executor == "ray":
            from swepipe.experiments.ray_executor import run_with_ray

            outcomes = run_with_ray(store, variant, workers=workers, chunk_size=chunk_size)
        else:
            outcomes, _ = event_loop.run(run_config(
                store, variant, executors=docker_executors(variant, shared)))
        failed += sum(o.failed for o in outcomes)
        for line in failure_lines(outcomes):
            print(line, file=sys.stderr)
    if failed:
        print(f"{failed} instance(s) had a failed stage; see `swepipe status`", file=sys.stderr)
    return failed


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a pipeline config (TOML/YAML or preset) over a dataset")
    p.add_argument("config", help="config file, or a preset name: agentless, codemonkeys")
    p.add_argument("overrides", nargs="*", metavar="key=value",
                   help="overrides, e.g. generate.samples=4 cache.localize=recompute "
                        "(anywhere among the options)")
    p.add_argument("--instances", nargs="+", action=InstancesAction, metavar="ID",
                   help="only these instance ids")
    p.add_argument("--limit", type=int, help="at most N instances")
    p.add_argument("--show", action="store_true", help="print the resolved config and hashes")
    p.add_argument("--retry-failed", action="store_true", help="recompute failed results")
    p.add_argument("--executor", choices=["local", "ray"], default="local",
                   help="local: this process (default); ray: instances spread over Ray workers")
    p.add_argument("--workers", type=int, default=2, help="Ray workers (with --executor ray)")
    p.add_argument("--chunk-size", type=int, help="instances per Ray task (default: about "
                   "three chunks per worker, at most 50)")
    p.set_defaults(handler=cmd_run, take_extras=take_overrides, late_overrides=[])
