"""Model calls through the logging `Model` handle, every sequence persisted in the store.

    python benchmarks/model_calls_logged.py [--calls 10000] [--concurrency 256] [--latency-ms 100]

1. N chat calls at C in flight against the scripted server (own process) at L ms latency,
   through `ModelService` (each call writes a `sequences` row and its texts): wall time against
   the ideal N*L/C (target 1.10x), and the store overhead per call against the same calls made
   with the bare client in the same run.
2. The same with 20% injected faults: counts of done / failed-with-reason, and that the store
   holds exactly one row per call (none lost, none duplicated).
3. Bytes on disk per sequence for 40 samples sharing a 50k-token prompt, against storing the
   prompt in full with every sequence.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from model_client_throughput import start_server  # noqa: E402

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
    """`n` distinct ~50k-token prompts made of real SWE-bench issue text and code (compressible
    like real prompts, unlike a repeated snippet)."""
    rows = [json.loads(line) for line in gzip.open(bundled("swe-bench-lite-test.jsonl.gz"), "rt")]
    texts = [r["problem_statement"] + r["patch"] + r["test_patch"] for r in rows]
    prompts, k = [], 0
    for _ in range(n):
        parts: list[str] = []
        while sum(map(len, parts)) < size:
            parts.append(texts[k % len(texts)])
            k += 1
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


def _size(store: Store) -> int:
    with store.connect() as conn:
        conn.execute("CHECKPOINT")
    return store.path.stat().st_size


def _full_prompt_size(full: Store, ours: Store) -> int:
    """The same 40 sequence rows, each with its prompt text inline (no content addressing)."""
    rows = ours.query("SELECT s.*, c.text AS prompt FROM sequences AS s JOIN contents AS c "
                      "ON c.content_hash = s.messages[1].content_hash")
    with full.transaction() as conn:
        conn.execute("DROP TABLE IF EXISTS full_prompts")
        conn.register("_rows", rows)
        conn.execute("CREATE TABLE full_prompts AS SELECT * FROM _rows")
    return _size(full)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=256)
    parser.add_argument("--latency-ms", type=float, default=100)
    args = parser.parse_args()
    ideal = args.calls * args.latency_ms / 1000 / args.concurrency
    clean, url = start_server(Script(default="ok", latency=Latency(mean_ms=args.latency_ms)))
    faulty, furl = start_server(Script(default="ok", latency=Latency(mean_ms=args.latency_ms),
                                       faults=Faults(rate=0.2, retry_after_s=0.05, slow_s=10)))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(Path(tmp) / "calls.duckdb")
            store.schema_version()
            t_bare = asyncio.run(bare(url, args.calls, args.concurrency))
            t_logged, outcomes = asyncio.run(logged(store, url, args.calls, args.concurrency, "clean"))
            print(f"== {args.calls} calls, {args.concurrency} in flight, {args.latency_ms:g} ms")
            print(f"logged: wall {t_logged:.2f} s, ideal {ideal:.2f} s, ratio {t_logged / ideal:.2f} "
                  f"(target 1.10); bare client {t_bare:.2f} s ({t_bare / ideal:.2f}x)")
            print(f"store overhead per call: {(t_logged - t_bare) / args.calls * 1000:.3f} ms wall")
            t_f, f_out = asyncio.run(logged(store, furl, args.calls, args.concurrency, "faults"))
            rows = store.query("SELECT count(*) AS n, count(DISTINCT sequence_id) AS ids "
                               "FROM sequences WHERE run_id = 'faults'").to_pylist()[0]
            print(f"== 20% faults: wall {t_f:.2f} s, outcomes {dict(sorted(f_out.items()))}")
            print(f"   rows {rows['n']} for {args.calls} calls: lost {args.calls - rows['n']}, "
                  f"duplicated {rows['n'] - rows['ids']}")
            # fresh stores, sizes after a checkpoint: ours vs the prompt stored with every row
            empty = Store(Path(tmp) / "empty.duckdb")
            empty.schema_version()
            ours = Store(Path(tmp) / "shared.duckdb")
            prompts = realistic_prompts(20)
            asyncio.run(shared_prompt(ours, url, prompts))
            full = Store(Path(tmp) / "full.duckdb")
            base, n_seq = _size(empty), 40 * len(prompts)
            per_seq = (_size(ours) - base) / n_seq
            full_per_seq = (_full_prompt_size(full, ours) - base) / n_seq
            prompt_bytes = len(prompts[0].encode())
            print(f"== {len(prompts)} prompts x 40 samples, each prompt {prompt_bytes / 1e3:.0f} kB: "
                  f"{per_seq / 1e3:.1f} kB on disk per sequence, against {full_per_seq / 1e3:.1f} kB "
                  f"with the prompt stored in every row ({full_per_seq / per_seq:.1f}x)")
    finally:
        clean.terminate()
        faulty.terminate()


if __name__ == "__main__":
    main()
