"""Model calls through the logging `Model` handle, every sequence persisted in the store.

    python benchmarks/model_calls_logged.py [--calls 10000] [--concurrency 256] [--latency-ms 100]
                                            [--prompts 50] [--event-loop uvloop|asyncio]

1. N chat calls at C in flight against the scripted server (own process) at L ms latency,
   through `ModelService` (each call writes a `sequences` row and its texts): wall time against
   the ideal N*L/C (target 1.10x). Two baselines in the same run show where the rest goes: the
   same calls with the bare client (no logging; the difference is the store overhead per
   call), and a plain aiohttp loop with no swepipe code at all (the transport's own floor).
2. The same with 20% injected faults: counts of done / failed-with-reason, and that the store
   holds exactly one row per call (none lost, none duplicated).
3. Bytes on disk per sequence for P prompts x 40 samples, each prompt ~50k tokens of real
   SWE-bench text: our content-addressed store against the same rows with the prompt stored in
   full in every row (in DuckDB, which compresses it), and against the prompt's raw size (a
   JSONL log). File sizes after a checkpoint, and without DuckDB's free blocks.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from model_client_throughput import start_server  # noqa: E402

import aiohttp  # noqa: E402

from swepipe import event_loop  # noqa: E402
from swepipe.demo import bundled  # noqa: E402
from swepipe.errors import ModelError  # noqa: E402
from swepipe.models import EndpointSettings, OpenAIClient, Script  # noqa: E402
from swepipe.models.handle import Binding, ModelService  # noqa: E402
from swepipe.models.scripted_rules import Faults, Latency  # noqa: E402
from swepipe.store import Store  # noqa: E402
from swepipe.store.call_cache import CallCache  # noqa: E402
from swepipe.store.writer import StoreWriter  # noqa: E402
from swepipe.types import Message, SamplingParams  # noqa: E402


def settings(url: str, concurrency: int) -> EndpointSettings:
    return EndpointSettings(base_url=url, max_concurrency=concurrency, timeout_s=5,
                            backoff_base_s=0.05, max_retries=6, api_key_env=None)


async def transport_floor(url: str, calls: int, concurrency: int) -> float:
    """The same requests from a plain aiohttp loop: no retries, parsing or logging."""
    slots = asyncio.Semaphore(concurrency)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
        async def one(i: int) -> None:
            body = {"model": "m", "messages": [{"role": "user", "content": f"floor-{i}"}],
                    "max_tokens": 16}
            async with slots, http.post(f"{url}/chat/completions", json=body) as resp:
                json.loads(await resp.read())

        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(calls)))
        return time.perf_counter() - t0


async def bare(url: str, calls: int, concurrency: int) -> float:
    async with OpenAIClient(settings(url, concurrency)) as client:
        t0 = time.perf_counter()
        await asyncio.gather(*(client.chat("m", [Message(role="user", content=f"bare-{i}")],
                                           SamplingParams(max_tokens=16)) for i in range(calls)))
        return time.perf_counter() - t0


async def logged(store: Store, url: str, calls: int, concurrency: int,
                 tag: str) -> tuple[float, dict[str, int]]:
    outcomes: dict[str, int] = {}
    async with StoreWriter(store) as writer, OpenAIClient(settings(url, concurrency)) as client:
        service = ModelService(client, writer, CallCache(store), model="m")
        model = service.handle(Binding(run_id=tag, stage="generate", policy="off"))

        async def one(i: int) -> None:
            try:
                await model.chat([Message(role="user", content=f"{tag}-{i}")],
                                 SamplingParams(max_tokens=16))
                key = "done"
            except ModelError as exc:
                key = f"failed:{getattr(exc, 'reason', type(exc).__name__)}"
            outcomes[key] = outcomes.get(key, 0) + 1

        t0 = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(calls)))
        await service.drain()
        return time.perf_counter() - t0, outcomes


def realistic_prompts(n: int, size: int = 200_000) -> list[str]:
    """`n` distinct ~50k-token prompts of real SWE-bench issue text and code (compressible like
    real prompts, unlike a repeated snippet): each a seeded shuffle of the bundled Lite rows."""
    rows = [json.loads(line) for line in gzip.open(bundled("swe-bench-lite-test.jsonl.gz"), "rt")]
    texts = [r["problem_statement"] + r["patch"] + r["test_patch"] for r in rows]
    prompts = []
    for k in range(n):
        order = random.Random(k).sample(texts, len(texts))
        parts, total = [], 0
        for text in order:
            if total >= size:
                break
            parts.append(text)
            total += len(text)
        prompts.append("".join(parts)[:size])
    return prompts


async def shared_prompt(store: Store, url: str, prompts: list[str]) -> None:
    """40 samples per prompt, as an Agentless generation stage sends them."""
    async with StoreWriter(store) as writer, OpenAIClient(settings(url, 64)) as client:
        service = ModelService(client, writer, CallCache(store), model="m")
        model = service.handle(Binding(stage="generate"))
        await asyncio.gather(*(model.chat([Message(role="user", content=prompt)],
                                          SamplingParams(temperature=0.8), sample_idx=k)
                               for prompt in prompts for k in range(40)))


def _sizes(store: Store) -> tuple[int, int]:
    """(file bytes, bytes in used blocks) after a checkpoint."""
    with store.connect() as conn:
        conn.execute("CHECKPOINT")
        block, total, free = conn.execute(
            "SELECT block_size, total_blocks, free_blocks FROM pragma_database_size()").fetchone()
    return store.path.stat().st_size, (total - free) * block


def _inline_store(full: Store, ours: Store) -> None:
    """The same sequence rows, each with its prompt text inline (no content addressing)."""
    rows = ours.query("SELECT s.*, c.text AS prompt FROM sequences AS s JOIN contents AS c "
                      "ON c.content_hash = s.messages[1].content_hash")
    with full.transaction() as conn:
        conn.register("_rows", rows)
        conn.execute("CREATE TABLE full_prompts AS SELECT * FROM _rows")


def disk_per_sequence(tmp: Path, url: str, n_prompts: int) -> None:
    empty, ours, full = (Store(tmp / f"{name}.duckdb") for name in ("empty", "ours", "full"))
    empty.schema_version()
    prompts = realistic_prompts(n_prompts)
    event_loop.run(shared_prompt(ours, url, prompts))
    _inline_store(full, ours)
    n_seq, raw = 40 * len(prompts), sum(len(p.encode()) for p in prompts) * 40
    (base_file, base_used), (ours_file, ours_used), (full_file, full_used) = \
        _sizes(empty), _sizes(ours), _sizes(full)
    print(f"== {len(prompts)} prompts x 40 samples, each prompt {len(prompts[0]) / 1e3:.0f} kB "
          f"({n_seq} sequences), kB per sequence:")
    print(f"   content-addressed (ours): file {(ours_file - base_file) / n_seq / 1e3:.2f}, "
          f"used blocks {(ours_used - base_used) / n_seq / 1e3:.2f}")
    print(f"   prompt inline in every row (DuckDB-compressed): file "
          f"{(full_file - base_file) / n_seq / 1e3:.2f}, used blocks "
          f"{(full_used - base_used) / n_seq / 1e3:.2f}")
    print(f"   prompt text alone, uncompressed (a JSONL log): {raw / n_seq / 1e3:.1f} "
          f"({raw / max(ours_used - base_used, 1):.0f}x ours)")


def _timed_cpu(coro: Any) -> tuple[Any, float]:
    """(the coroutine's result, CPU seconds this process spent on it, all threads)."""
    cpu = time.process_time()
    result = event_loop.run(coro)
    return result, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--latency-ms", type=float, default=100)
    parser.add_argument("--prompts", type=int, default=50)
    parser.add_argument("--event-loop", choices=("uvloop", "asyncio"), default="uvloop")
    args = parser.parse_args()
    os.environ["SWEPIPE_EVENT_LOOP"] = args.event_loop  # this process and the servers
    n, c = args.calls, args.concurrency
    ideal = n * args.latency_ms / 1000 / c
    clean, url = start_server(Script(default="ok", latency=Latency(mean_ms=args.latency_ms)))
    faulty, furl = start_server(Script(default="ok", latency=Latency(mean_ms=args.latency_ms),
                                       faults=Faults(rate=0.2, retry_after_s=0.05, slow_s=10)))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(Path(tmp) / "calls.duckdb")
            store.schema_version()
            (t_floor, cpu_floor), (t_bare, cpu_bare), ((t_logged, _), cpu_logged) = (
                _timed_cpu(transport_floor(url, n, c)), _timed_cpu(bare(url, n, c)),
                _timed_cpu(logged(store, url, n, c, "clean")))
            print(f"== {n} calls, {c} in flight, {args.latency_ms:g} ms, {args.event_loop} loop; "
                  f"ideal {ideal:.2f} s. [client CPU ms per call: what bounds the ratio; "
                  f"one core fits {ideal / n * 1000:.2f}]")
            print(f"logged (every sequence stored):  wall {t_logged:.2f} s, ratio "
                  f"{t_logged / ideal:.2f} (target 1.10) [{cpu_logged / n * 1000:.3f}]")
            print(f"bare client (no logging):        wall {t_bare:.2f} s, ratio "
                  f"{t_bare / ideal:.2f} [{cpu_bare / n * 1000:.3f}]")
            print(f"plain aiohttp loop (no swepipe): wall {t_floor:.2f} s, ratio "
                  f"{t_floor / ideal:.2f} [{cpu_floor / n * 1000:.3f}]")
            print(f"store overhead per call: {(t_logged - t_bare) / n * 1000:.3f} ms wall")
            t_f, f_out = event_loop.run(logged(store, furl, n, c, "faults"))
            rows = store.query("SELECT count(*) AS n, count(DISTINCT sequence_id) AS ids "
                               "FROM sequences WHERE run_id = 'faults'").to_pylist()[0]
            print(f"== 20% faults: wall {t_f:.2f} s, outcomes {dict(sorted(f_out.items()))}")
            print(f"   rows {rows['n']} for {n} calls: lost {n - rows['n']}, "
                  f"duplicated {rows['n'] - rows['ids']}")
            disk_per_sequence(Path(tmp), url, args.prompts)
    finally:
        clean.terminate()
        faulty.terminate()


if __name__ == "__main__":
    main()
