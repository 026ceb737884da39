"""CLI: `swepipe migrate agentless|codemonkeys|resolve`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported by the handlers: `swepipe --help` must start fast
    from swepipe.migrate.importer import ImportOptions


def _options(args: argparse.Namespace) -> ImportOptions:
    from swepipe.migrate.importer import ImportOptions

    return ImportOptions(dry_run=args.dry_run, skip_bad=args.skip_bad, dataset=args.dataset)


def cmd_agentless(args: argparse.Namespace) -> int:
    from swepipe.migrate.api import migrate_agentless
    from swepipe.store.store import Store

    store = Store(args.store)
    for path in args.paths:
        print(migrate_agentless(store, path, _options(args), repos_dir=args.repos_dir))
    return 0


def cmd_codemonkeys(args: argparse.Namespace) -> int:
    from swepipe.migrate.api import migrate_codemonkeys
    from swepipe.store.store import Store

    store = Store(args.store)
    for path in args.paths:
        print(migrate_codemonkeys(store, path, _options(args), run_name=args.run_name))
    return 0


def cmd_levels(args: argparse.Namespace) -> int:
    from swepipe.migrate.api import level_file_recall
    from swepipe.store.store import Store

    rows = level_file_recall(Store(args.store), args.path)

    def cell(v: float | None) -> str:
        return "-" if v is None else f"{v:.2f}"

    print(f"{'instance_id':40} {'file':>7} {'related':>7} {'edit':>7}")
    for r in rows:
        print(f"{r['instance_id']:40} {cell(r['file_level']):>7} {cell(r['related_level']):>7} "
              f"{cell(r['edit_level']):>7}")
    if not rows:
        print("no file_recall rewards for its levels yet (run `swepipe rewards --stage localize`)")
    return 0


def cmd_resolve(args: argparse.Namespace) -> int:
    from swepipe.migrate.resolve import resolve_store
    from swepipe.store.store import Store

    print(resolve_store(Store(args.store), args.repos_dir, dataset=args.dataset,
                        cache_dir=args.cache_dir))
    return 0


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", action="store_true",
                   help="read and validate, print what would be imported, write nothing")
    p.add_argument("--skip-bad", action="store_true",
                   help="import the good lines; store bad ones in legacy_quarantine")
    p.add_argument("--dataset", help="take instance revisions from this ingested dataset")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("migrate", help="import legacy Agentless / CodeMonkeys caches")
    msub = p.add_subparsers(dest="migrate_command", metavar="FORMAT", required=True)

    a = msub.add_parser("agentless", help="an Agentless results folder or one of its files")
    a.add_argument("paths", nargs="+", metavar="DIR|FILE")
    a.add_argument("--repos-dir", help="checkouts to resolve symbol locations to lines "
                                       "(<dir>/<instance_id>/ or clones <dir>/<owner>__<name>)")
    _common(a)
    a.set_defaults(handler=cmd_agentless)

    c = msub.add_parser("codemonkeys", help="a CodeMonkeys trajectory store folder")
    c.add_argument("paths", nargs="+", metavar="DIR")
    c.add_argument("--run-name", help="names the run in the legacy configs "
                                      "(default: the store folder's name)")
    _common(c)
    c.set_defaults(handler=cmd_codemonkeys)

    lv = msub.add_parser("levels", help="file_recall per instance of each level migrated from "
                                         "one localization file (after `swepipe rewards`)")
    lv.add_argument("path", metavar="FILE")
    lv.set_defaults(handler=cmd_levels)

    r = msub.add_parser("resolve", help="fill in line spans of migrated symbol locations")
    r.add_argument("--repos-dir", required=True,
                   help="<dir>/<instance_id>/ checkouts, or clones <dir>/<owner>__<name>")
    r.add_argument("--cache-dir", help="where checkouts made from clones are kept "
                                       "(default: <repos-dir>/.checkouts)")
    r.add_argument("--dataset", help="take repo and commit from this dataset's revisions")
    r.set_defaults(handler=cmd_resolve)
