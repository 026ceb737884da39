"""The `swepipe` command. Thin: each command parses arguments and calls one library function.

Commands live beside their concept: each module in `COMMAND_MODULES` has a
`register(subparsers)` that adds its commands; a command handler takes the parsed namespace and
returns an exit code. A `SwepipeError` prints one line and exits 2; anything else is a bug and
keeps its traceback.

Start-up time: every command module is imported to build the parser, so at top level it imports
only what the parser needs (argparse, the standard library, `swepipe.stages`); handlers import
the rest (duckdb, pyarrow, the runner, rich, ...) when they run, and the packages re-export
lazily. `tests/test_cli.py` fails when the parser imports a heavy module;
`benchmarks/startup.py` measures it.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from swepipe import __version__
from swepipe.errors import SwepipeError

COMMAND_MODULES = (
    "swepipe.store.commands",
    "swepipe.datasets.commands",
    "swepipe.models.commands",
    "swepipe.rewards.commands",
    "swepipe.execute.commands",
    "swepipe.execute.coverage_commands",
    "swepipe.experiments.commands",
    "swepipe.demo",
    "swepipe.migrate.commands",
    "swepipe.select.commands",
    "swepipe.evaluation.commands",
    "swepipe.repos.commands",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="swepipe", description="Modular, store-backed pipelines for AI issue resolution.")
    parser.add_argument("--version", action="version", version=f"swepipe {__version__}")
    parser.add_argument("--store", default=None,
                        help="store file (default: $SWEPIPE_STORE or ./swepipe.duckdb)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
                # a stage whose commands are not written yet
                continue
            raise
        module.register(sub)
    _accept_store_everywhere(sub)
    return parser


def _accept_store_everywhere(sub: argparse._SubParsersAction) -> None:
    """Let `--store` follow the command too (`swepipe status --store X`)."""
    for command in sub.choices.values():
        command.add_argument("--store", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
        for action in command._subparsers._group_actions if command._subparsers else []:
            _accept_store_everywhere(action)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    # a command may claim leftover arguments (`run` takes `key=value` overrides after options)
    args, extras = parser.parse_known_args(argv)
    if extras and getattr(args, "take_extras", None):
        extras = args.take_extras(args, extras)
    if extras:
        parser.error(f"unrecognized arguments: {' '.join(extras)}")
    if not getattr(args, "handler", None):
        parser.print_help()
        return 1
    try:
        code = int(args.handler(args) or 0)
        sys.stdout.flush()  # here, not at exit, so that a closed pipe is caught below
        return code
    except BrokenPipeError:
        # the reader went away (`swepipe store info | head -2`): stop quietly, as `cat` does;
        # stdout goes to devnull so the interpreter's own flush at exit cannot fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a command killed by the pipe
    except SwepipeError as exc:
        from swepipe.models.redact import redact_text  # only the error path needs it

        print(f"swepipe: error: {redact_text(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("swepipe: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
