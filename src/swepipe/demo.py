"""`swepipe demo`: the README's main command. No network, no model download.

1. creates a local store (`./swepipe.duckdb` unless `--store`) and ingests the SWE-bench Lite rows
   bundled in the package;
2. migrates the bundled legacy Agentless cache (a real v1.5 localization run on 7 Lite instances);
3. builds the bundled mini-benchmark (three small real repositories with an issue, a gold patch
   and tests each) and runs the `agentless` and `codemonkeys` presets on it end to end, against
   the scripted model server (or a real endpoint with `--endpoint URL --model NAME`);
4. runs the gold tests of every candidate in the sandbox, computes every pseudo-reward, and prints
   the stage-quality report.
Everything is cached: a second `swepipe demo` reads its results back instead of recomputing.
"""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # run_demo imports the pipeline: the parser must start fast
    from swepipe.store.store import Store

PRESETS = ("agentless", "codemonkeys")


def bundled(name: str) -> Path:
    """Path of a data file shipped inside the package."""
    return Path(str(resources.files("swepipe") / "data" / name))


def run_demo(store: Store, *, endpoint: str | None = None, model: str | None = None) -> int:
    """Run the whole demo; returns the number of instances with a failed stage."""
    from swepipe import event_loop
    from swepipe.datasets.ingest import ingest_file, ingest_instances
    from swepipe.execute.evaluate import evaluate
    from swepipe.execute.sandbox import LocalSandbox
    from swepipe.experiments.commands import run_pipeline
    from swepipe.experiments.config import load_config
    from swepipe.migrate.api import migrate_agentless
    from swepipe.minibench import build_minibench
    from swepipe.models.redact import redact_url
    from swepipe.rewards.compute import compute_rewards
    from swepipe.rewards.report import print_summary
    from swepipe.store.store import default_store_path

    work = store.path.resolve().parent / ".swepipe-cache"
    print(f"store: {store.path}   work dir: {work}")
    print(ingest_file(store, bundled("swe-bench-lite-test.jsonl.gz"), "swe-bench-lite"))
    print(migrate_agentless(store, bundled("legacy/agentless-v1.5-lite-7")))
    instances = build_minibench(work / "repos")
    print(ingest_instances(store, instances, "minibench", "bundled mini-benchmark"))
    overrides = [f"repos_dir={work / 'repos'}", f"cache_dir={work}"]
    if endpoint:
        overrides += [f"model.endpoint.base_url={endpoint}", f"model.name={model or 'default'}"]
        print(f"model: {model} at {redact_url(endpoint)}")
    else:
        print("model: SCRIPTED. Replies come from regex rules in the package (no real model), so "
              "the figures below show the machinery, not a model's skill.")
    failed = 0
    for preset in PRESETS:
        print(f"\n== preset {preset}")
        # the same live progress, checks and failure report as `swepipe run`
        failed += run_pipeline(store, load_config(preset, overrides))
    report = event_loop.run(evaluate(store, LocalSandbox(), work / "repos", work / "checkouts"))
    print(f"\ngold tests: {report.candidates} new candidates run, {report.resolved} resolved")
    print(compute_rewards(store, repos_dir=work / "repos"))
    print()
    print_summary(store)
    # a preset run by hand needs the mini-benchmark's clones, which only the demo knows about
    store_opt = "" if store.path.resolve() == default_store_path().resolve() else \
        f" --store {store.path}"
    print(f"\nnext: `swepipe{store_opt} run agentless repos_dir={work / 'repos'}` re-runs a "
          "preset from the store; `swepipe status`, `swepipe report`, `swepipe sql QUERY`")
    return failed


def cmd_demo(args: argparse.Namespace) -> int:
    from swepipe.store.store import Store

    failed = run_demo(Store(args.store), endpoint=args.endpoint, model=args.model)
    return 1 if failed else 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="run the offline demo on bundled data (no network, no model)")
    p.add_argument("--endpoint", help="OpenAI-compatible base URL of a real model (with /v1)")
    p.add_argument("--model", help="model name at --endpoint")
    p.set_defaults(handler=cmd_demo)
