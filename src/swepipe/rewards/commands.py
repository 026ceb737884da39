"""CLI: `rewards`, `report`, `import-predictions`, `inject-gold`."""

from __future__ import annotations

import argparse
from pathlib import Path

from swepipe.stages import STAGES


def cmd_rewards(args: argparse.Namespace) -> int:
    from swepipe.errors import InputError
    from swepipe.rewards.compute import compute_rewards
    from swepipe.rewards.llm_similarity import METRIC, run_llm_similarity
    from swepipe.store.store import Store

    store = Store(args.store, create=False)
    # llm_similarity costs model calls: computed only when asked for, by name, with a judge
    sql_metrics = [m for m in args.metric or () if m != METRIC]
    if METRIC in (args.metric or ()):
        if not args.judge_model:
            raise InputError("--metric llm_similarity needs --judge-model", field="judge_model")
        print(run_llm_similarity(store, args.judge_model, endpoint=args.judge_endpoint,
                                 config_hash=args.config))
        if not sql_metrics:
            return 0
    report = compute_rewards(store, stage=args.stage, config_hash=args.config,
                             metrics=sql_metrics or None, repos_dir=args.repos)
    print(report)
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from swepipe.rewards.plot import plot_summary
    from swepipe.rewards.report import print_calibration, print_summary
    from swepipe.store.store import Store

    store = Store(args.store, create=False)
    if args.calibration:
        print_calibration(store)
    print_summary(store, stage=args.stage, dataset=args.dataset)
    if args.plot:
        print(f"wrote {plot_summary(store, args.plot, stage=args.stage, dataset=args.dataset)}")
    return 0


def cmd_import_predictions(args: argparse.Namespace) -> int:
    from swepipe.rewards.predictions import import_predictions
    from swepipe.store.store import Store

    print(import_predictions(Store(args.store), args.file, args.name))
    return 0


def cmd_inject_gold(args: argparse.Namespace) -> int:
    from swepipe.rewards.predictions import inject_gold
    from swepipe.store.store import Store

    config = inject_gold(Store(args.store, create=False), args.config, seed=args.seed)
    print(f"gold-injected candidate set: config {config}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("rewards", help="compute pseudo-rewards (queries/rewards/*.sql) into "
                                       "the rewards table; recomputation replaces")
    p.add_argument("--stage", choices=STAGES, help="only this stage (default: all, in order)")
    p.add_argument("--config", metavar="HASH", help="only this config hash")
    # names are checked by compute_rewards (importing them here would cost start-up time)
    p.add_argument("--metric", action="append", metavar="NAME",
                   help="only this metric (repeatable; names: docs/metrics.md)")
    p.add_argument("--judge-model", metavar="NAME", help="judge model of llm_similarity")
    p.add_argument("--judge-endpoint", metavar="URL",
                   help="OpenAI base URL of the judge (default: the offline scripted judge)")
    p.add_argument("--repos", type=Path, metavar="DIR",
                   help="local clones named <owner>__<name>: enables function_recall")
    p.set_defaults(handler=cmd_rewards)

    p = sub.add_parser("report", help="stage-quality table per dataset and config "
                                      "(mean ± 95%% CI)")
    p.add_argument("--stage", choices=STAGES, help="only this stage's table (default: all)")
    p.add_argument("--dataset", metavar="NAME", help="only the instances of this dataset")
    p.add_argument("--plot", type=Path, metavar="FILE",
                   help="also write the table as a chart (PNG): mean, 95%% interval and n per "
                        "dataset and config, rates on a 0-1 axis")
    p.add_argument("--calibration", action="store_true",
                   help="AUC / Spearman of cheap rewards vs resolved; fit predicted_resolved")
    p.set_defaults(handler=cmd_report)

    p = sub.add_parser("import-predictions",
                       help="a SWE-bench predictions file becomes a candidate set (1 per instance)")
    p.add_argument("file", type=Path, metavar="FILE.jsonl")
    p.add_argument("--name", required=True, help="name of the candidate set (part of its config)")
    p.set_defaults(handler=cmd_import_predictions)

    p = sub.add_parser("inject-gold", help="copy a candidate set with the gold patch inserted, "
                                           "to measure gold_injection_accuracy")
    p.add_argument("config", metavar="HASH", help="generation config hash")
    p.add_argument("--seed", type=int, default=0,
                   help="seed of the gold patch's position among the candidates")
    p.set_defaults(handler=cmd_inject_gold)
