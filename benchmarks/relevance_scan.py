"""CodeMonkeys relevance scan over a generated 3,000-file repository, against the scripted server.

    .venv/bin/python benchmarks/relevance_scan.py [--files 3000] [--instances 2]
        [--concurrency 64] [--latency-ms 20] [--top-k 50]

For each of `--instances` generated issues (benchmarks/synthrepo.py: a django-sized Python
repository and issue-like queries), runs two localizers through the real model path (HTTP client,
logged handle, call cache, store writer) against the scripted server in its own process:
- `codemonkeys`: the full scan, one relevance call per file;
- `codemonkeys_retrieval_first`: local embedding retrieval, then relevance on the top-K files.
Each variant gets its own fresh store, so neither is answered from the other's call cache.
Prints, side by side: relevance calls per second (with the ideal concurrency / latency), model
calls and LLM tokens (prompt + completion, from `sequences`) per instance, the ratio, and
whether the gold file was among the judged files.

The scripted model calls the gold file and the files of one package relevant, everything else
not relevant, and ranks by echoing the first relevant path.
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from synthrepo import generate_queries, generate_repo  # noqa: E402

from swepipe import event_loop  # noqa: E402
from swepipe.datasets.ingest import ingest_instances  # noqa: E402
from swepipe.localize.codemonkeys import CodeMonkeysConfig, CodeMonkeysLocalizer  # noqa: E402
from swepipe.localize.codemonkeys_retrieval_first import (  # noqa: E402
    RetrievalFirstConfig, RetrievalFirstLocalizer)
from swepipe.models.handle import Binding  # noqa: E402
from swepipe.models.local import endpoint_service  # noqa: E402
from swepipe.models.scripted_rules import Latency, Rule, Script  # noqa: E402
from swepipe.models.scripted_server import start_in_subprocess  # noqa: E402
from swepipe.models.settings import EndpointSettings  # noqa: E402
from swepipe.protocols import StageContext  # noqa: E402
from swepipe.store.stage_cache import StageCache  # noqa: E402
from swepipe.store.store import Store  # noqa: E402
from swepipe.store.writer import StoreWriter  # noqa: E402
from swepipe.types import Instance  # noqa: E402

REPO, COMMIT = "bench/synth", "0" * 40


start_server = start_in_subprocess


def script_for(golds: list[str], latency_ms: float) -> Script:
    # the ranking rule first: a ranking prompt also holds `<file path="...` of relevant files
    rules = [Rule(pattern=r'<file path="([^"]+)" tokens=.*Rank these files', reply=r'["\1"]')]
    rules += [Rule(pattern=f'<file path="{g}">',
                  reply="RELEVANCE: Relevant\nSUMMARY: defines the failing behaviour.")
             for g in golds]
    rules += [Rule(pattern=r'<file path="proj/cache/', reply="RELEVANCE: Relevant\nSUMMARY: "
                   "cache helpers the fix may touch.")]
    return Script(default="RELEVANCE: Not Relevant", rules=rules,
                  latency=Latency(mean_ms=latency_ms))


async def run_variant(name: str, component, config, instances: list[Instance], repo: Path,
                      base_url: str, concurrency: int, workdir: Path) -> dict[str, float]:
    store = Store(workdir / f"{name}.duckdb")
    ingest_instances(store, instances, "bench", "synthetic")
    settings = EndpointSettings(base_url=base_url, api_key_env=None,
                                max_concurrency=concurrency, max_retries=2, timeout_s=60)
    cfg_hash = config.hash()
    wall = index_s = 0.0
    async with StoreWriter(store) as writer:
        async with endpoint_service(store, writer, settings, model="bench/scripted") as service:
            cache = StageCache(store, writer, "localize", cfg_hash)
            outputs = []
            for inst in instances:  # one instance at a time: its own calls at `concurrency`
                ctx = StageContext(model=service.handle(Binding(
                    instance_id=inst.instance_id, stage="localize", config_hash=cfg_hash)),
                    repo_dir=repo, log=logging.getLogger("bench"))
                warm = getattr(component, "retrieval", None)
                if warm is not None and hasattr(warm, "index_for"):
                    # build (or open) the index outside the timed scan; reported on its own
                    start = time.perf_counter()
                    await warm.index_for(inst, ctx)
                    index_s += time.perf_counter() - start
                start = time.perf_counter()
                result = await cache.get_or_compute(inst, lambda: component.locate(inst, ctx))
                wall += time.perf_counter() - start
                assert result.status == "done", result.error
                outputs.append(result.value)
            await service.drain()
            calls = service.calls
    row = store.query("SELECT count(*) AS n, sum(prompt_tokens + completion_tokens) AS t "
                      "FROM sequences WHERE config_hash = ?", [cfg_hash]).to_pylist()[0]
    judged = store.query(
        "SELECT count(*) AS n FROM sequences WHERE config_hash = ? AND sample_idx = 0 AND "
        "len(messages) = 2", [cfg_hash]).to_pylist()[0]["n"]
    n = len(instances)
    return {"wall_s": wall, "index_s": index_s, "calls": calls, "calls_per_s": calls / wall if wall else 0.0,
            "calls_per_instance": row["n"] / n, "judged_per_instance": judged / n,
            "tokens_per_instance": (row["t"] or 0) / n,
            "gold_packed": sum(any(p.file_path == i.extra["gold"] for p in out)
                               for i, out in zip(instances, outputs)) / n}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--instances", type=int, default=2)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--latency-ms", type=float, default=20.0)
    ap.add_argument("--top-k", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    with tempfile.TemporaryDirectory(prefix="relevance-scan-") as tmp:
        work = Path(tmp)
        repo = work / "repo"
        t0 = time.perf_counter()
        targets = generate_repo(repo, args.files, seed=args.seed)
        queries = generate_queries(targets, n=args.instances, seed=args.seed + 1)
        print(f"generated {args.files} files in {time.perf_counter() - t0:.1f} s; "
              f"{args.instances} instances, server latency {args.latency_ms:.0f} ms, "
              f"concurrency {args.concurrency}")
        instances = [Instance(instance_id=f"bench__synth-{i}", repo=REPO, base_commit=COMMIT,
                              problem_statement=q, extra={"gold": gold})
                     for i, (q, gold, _) in enumerate(queries)]
        proc, base_url = start_server(script_for([g for _, g, _ in queries], args.latency_ms))
        try:
            full_cfg = CodeMonkeysConfig(max_concurrent=args.concurrency, ranking_samples=3)
            first_cfg = RetrievalFirstConfig(
                top_k=args.top_k, max_concurrent=args.concurrency, ranking_samples=3,
                retrieval={"component": "retrieval", "top_files": args.top_k, "top_chunks": 0,
                           "index_dir": str(work / "indexes")})
            full = event_loop.run(run_variant("full", CodeMonkeysLocalizer(full_cfg), full_cfg,
                                           instances, repo, base_url, args.concurrency, work))
            t1 = time.perf_counter()
            first = event_loop.run(run_variant("first", RetrievalFirstLocalizer(first_cfg),
                                            first_cfg, instances, repo, base_url,
                                            args.concurrency, work))
            print(f"retrieval index built in {first['index_s']:.1f} s (once per repo and "
                  f"commit, not in the timings below); variant total "
                  f"{time.perf_counter() - t1:.1f} s")
        finally:
            proc.terminate()
            proc.join()

    ideal = args.concurrency / (args.latency_ms / 1000) if args.latency_ms else float("inf")
    rows = [("localize wall time, all instances (s)", "wall_s", "{:.1f}"),
            ("model calls made", "calls", "{:.0f}"),
            ("calls per second", "calls_per_s", "{:.0f}"),
            ("files judged per instance", "judged_per_instance", "{:.0f}"),
            ("model calls per instance", "calls_per_instance", "{:.0f}"),
            ("LLM tokens per instance", "tokens_per_instance", "{:,.0f}"),
            ("gold file in the packed context", "gold_packed", "{:.0%}")]
    print(f"\n{'':38}{'full scan':>12}{f'retrieval top-{args.top_k}':>20}")
    for label, key, fmt in rows:
        print(f"{label:38}{fmt.format(full[key]):>12}{fmt.format(first[key]):>20}")
    ratio = full["tokens_per_instance"] / max(first["tokens_per_instance"], 1)
    print(f"\nretrieval-first uses {ratio:.0f}x fewer LLM tokens per instance; ideal call rate "
          f"at this latency and concurrency: {ideal:.0f}/s")


if __name__ == "__main__":
    random.seed(0)
    main()
