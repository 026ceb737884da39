"""CLI commands of the models package (wired into `swepipe` by `cli.py`)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `serve-scripted` to the `swepipe` command line."""
    p = subparsers.add_parser(
        "serve-scripted", help="run the scripted OpenAI-compatible server (tests, demos)",
        description="Serve /v1/chat/completions, /v1/embeddings, /tokenize and /v1/models with "
                    "scripted replies, set latency and injected faults. See docs/models.md.")
    p.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (0 picks a free one)")
    p.add_argument("--latency-ms", type=float, default=None,
                   help="fixed reply latency in ms (overrides the script)")
    p.add_argument("--fault-rate", type=float, default=None,
                   help="probability of an injected fault per request, 0..1 (overrides the script)")
    p.add_argument("--script", default=None, metavar="FILE",
                   help="YAML or JSON script: rules, queue, default, latency, faults")
    p.set_defaults(handler=serve_scripted_command)


def serve_scripted_command(args: argparse.Namespace) -> int:
    """Run until interrupted; exit code 0."""
    if args.fault_rate is not None and not 0 <= args.fault_rate <= 1:
        from swepipe.errors import InputError
        raise InputError("--fault-rate must be between 0 and 1", field="fault_rate")
    from swepipe.models.scripted_server import serve

    serve(args.host, args.port, args.latency_ms, args.fault_rate, args.script)
    return 0
