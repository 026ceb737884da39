"""Throughput and robustness of the model client against the scripted server.

    python benchmarks/model_client_throughput.py                      # 10,000 calls, 256 wide
    python benchmarks/model_client_throughput.py --calls 500 --concurrency 32   # quick

Run 1 (clean): N chat calls at C concurrency against a server with L ms latency; prints wall time,
the ideal N*L/C and their ratio (target <= 1.10). Run 2 (faults): the same with a fault rate
spread over 429 / 500 / slow / drop / malformed / truncated; prints how many calls ended done or
failed (by reason), and checks none was lost (no outcome) or duplicated (an outcome recorded twice
or a reply that belongs to another call), and that the run did not hang.

The server runs in its own process, so client and server do not share one interpreter lock.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections import Counter

import httpx

from swepipe import event_loop
from swepipe.models import EndpointSettings, ModelCallError, OpenAIClient, Script
from swepipe.models.scripted_rules import Faults, Rule
from swepipe.models.scripted_server import start_in_subprocess
from swepipe.types import Message, SamplingParams


start_server = start_in_subprocess


async def run_calls(settings: EndpointSettings, calls: int, hang_after_s: float
                    ) -> tuple[float, float, dict[int, list[str]], int, bool]:
    """Returns (wall seconds, client CPU seconds, outcomes per call, attempts made, hung?)."""
    outcomes: dict[int, list[str]] = {i: [] for i in range(calls)}
    attempts = 0

    async def one(i: int) -> None:
        nonlocal attempts
        try:
            result = await client.chat("scripted", [Message(role="user", content=f"call-{i}")],
                                       SamplingParams(max_tokens=16))
        except ModelCallError as exc:
            attempts += exc.attempts
            outcomes[i].append(f"failed:{exc.reason}")
            return
        attempts += result.attempts
        outcomes[i].append("done" if result.completion.text == f"done {i}" else
                           f"wrong-reply:{result.completion.text}")

    async with OpenAIClient(settings) as client:
        start, cpu = time.perf_counter(), time.process_time()
        tasks = [asyncio.create_task(one(i)) for i in range(calls)]
        done, pending = await asyncio.wait(tasks, timeout=hang_after_s)
        for task in pending:
            task.cancel()
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    return wall, cpu, outcomes, attempts, bool(pending)


def server_stats(base_url: str) -> dict[str, int]:
    return httpx.get(base_url.removesuffix("/v1") + "/_stats").json()


def bench(args: argparse.Namespace, fault_rate: float) -> bool:
    script = Script(rules=[Rule(pattern=r"call-(\d+)", reply=r"done \1")],
                    faults=Faults(rate=fault_rate, retry_after_s=args.retry_after_s,
                                  slow_s=args.timeout_s * 2, seed=args.seed))
    script.latency.mean_ms = args.latency_ms
    proc, base_url = start_server(script)
    try:
        settings = EndpointSettings(
            base_url=base_url, api_key_env=None, max_concurrency=args.concurrency,
            # Without faults nothing should time out: a long timeout keeps a busy machine honest.
            timeout_s=args.timeout_s if fault_rate else 60.0, max_retries=args.max_retries if fault_rate else 0,
            max_retry_time_s=60, backoff_base_s=0.05, backoff_max_s=2)
        ideal = args.calls * args.latency_ms / 1000 / args.concurrency
        hang_after = 20 * ideal + 120
        wall, cpu, outcomes, attempts, hung = event_loop.run(run_calls(settings, args.calls, hang_after))
        stats = server_stats(base_url)
    finally:
        proc.terminate()
        proc.join()
    ends = Counter(o for outs in outcomes.values() for o in outs)
    lost = sum(1 for outs in outcomes.values() if not outs)
    duplicated = sum(1 for outs in outcomes.values() if len(outs) > 1) + \
        sum(n for o, n in ends.items() if o.startswith("wrong-reply"))
    title = f"fault rate {fault_rate:.0%}" if fault_rate else "clean"
    print(f"== {title}: {args.calls} calls, concurrency {args.concurrency}, "
          f"latency {args.latency_ms:g} ms")
    print(f"wall {wall:.2f} s   ideal {ideal:.2f} s   ratio {wall / ideal:.3f}"
          f"   ({args.calls / wall:.0f} calls/s)")
    # On one core the client must spend < concurrency / latency seconds of CPU per call to keep up.
    budget_ms = args.concurrency and 1000 * ideal / args.calls
    print(f"client CPU {1000 * cpu / args.calls:.3f} ms/call   "
          f"(budget for the ideal on one core {budget_ms:.3f} ms/call)")
    print(f"done {ends['done']}   " + "   ".join(
        f"{o} {n}" for o, n in sorted(ends.items()) if o.startswith("failed")) +
        f"   lost {lost}   duplicated {duplicated}   hung {hung}")
    faults = {k.removeprefix("fault."): v for k, v in sorted(stats.items()) if k.startswith("fault.")}
    print(f"client attempts {attempts}   server chat requests {stats.get('chat', 0)}   "
          f"injected {faults}")
    return lost == 0 and duplicated == 0 and not hung


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=10_000)
    p.add_argument("--concurrency", type=int, default=256)
    p.add_argument("--latency-ms", type=float, default=100.0)
    p.add_argument("--fault-rate", type=float, default=0.2, help="for the second run (0 skips it)")
    p.add_argument("--max-retries", type=int, default=3, help="client retries in the fault run")
    p.add_argument("--timeout-s", type=float, default=2.0,
                   help="client attempt timeout in the fault run; injected slow replies take "
                        "twice this")
    p.add_argument("--retry-after-s", type=float, default=0.2, help="Retry-After on injected 429s")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--skip-clean", action="store_true")
    args = p.parse_args(argv)
    ok = True
    if not args.skip_clean:
        ok &= bench(args, 0.0)
    if args.fault_rate:
        ok &= bench(args, args.fault_rate)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
