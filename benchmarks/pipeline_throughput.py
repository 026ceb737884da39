"""Pipeline throughput: 300 replicated mini-benchmark instances against the scripted server at
50 ms latency, locally and on Ray with 1 and 2 workers.

Ideal wall time = model calls x latency / C, where C is the most requests in flight: the
endpoint's `max_concurrency` per process (`--concurrency`; every stage's instance concurrency is
set to the same value so the endpoint is the only bound). On Ray each worker has its own client,
so the ideal with w workers divides by w * C. The store starts empty each time.

    python benchmarks/pipeline_throughput.py [--config auto|agentless|builtin|FILE]
        [--script FILE] [--instances 300] [--latency-ms 50] [--concurrency 16] [--no-ray]

`auto` takes the agentless preset once it names a `model.script` for the mini-benchmark, and
the built-in pipeline (see _bench_pipeline.py) until then.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _bench_pipeline import ServerProcess, prepare  # noqa: E402

from swepipe import event_loop  # noqa: E402
from swepipe.experiments.commands import run_config  # noqa: E402
from swepipe.experiments.config import load_config  # noqa: E402
from swepipe.store import Store  # noqa: E402


def fresh_calls(store: Store) -> int:
    return store.query("SELECT count(*) AS n FROM sequences WHERE NOT from_cache "
                       "AND status = 'ok'").to_pylist()[0]["n"]


def failed(outcomes: list) -> int:
    return sum(o.failed for o in outcomes)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="auto",
                        help="auto (agentless preset if present, else builtin), agentless, "
                             "builtin, or a config file")
    parser.add_argument("--script", help="scripted-server script (default: the config's "
                                             "model.script)")
    parser.add_argument("--instances", type=int, default=300)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray runs")
    args = parser.parse_args()
    lat, c = args.latency_ms / 1000, args.concurrency
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base, config_arg, script, overrides = prepare(folder, args.instances, args.config,
                                                       args.script)
        server = ServerProcess(script, args.latency_ms)
        try:
            overrides += [server.endpoint(c)] + [f"concurrency.{s}={c}"
                                                 for s in ("localize", "generate", "select")]
            config = load_config(config_arg, overrides)
            print(f"pipeline {config.name} ({config_arg}) on {args.instances} instances, "
                  f"scripted server at {args.latency_ms:.0f} ms, {c} requests in flight "
                  "per process")

            store = Store(shutil.copy(base, folder / "local.duckdb"))
            t0 = time.perf_counter()
            outcomes, runner = event_loop.run(run_config(store, config, live=False))
            wall = time.perf_counter() - t0
            calls = runner.token_totals()["calls"]
            ideal = calls * lat / c
            print(f"local: {wall:.2f} s wall, {calls} model calls, ideal {ideal:.2f} s "
                  f"(calls x {args.latency_ms:.0f} ms / {c}), ratio {wall / ideal:.2f}x, "
                  f"{args.instances / wall:.1f} instances/s, failed {failed(outcomes)}")
            if not args.no_ray:
                ray_runs(folder, base, config, args.instances, lat, c)
        finally:
            server.close()


def ray_runs(folder: Path, base: Path, config, n: int, lat: float, c: int) -> None:
    import ray

    from swepipe.experiments.ray_executor import run_with_ray

    t0 = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False)
    print(f"ray.init(num_cpus=2): {time.perf_counter() - t0:.1f} s (not counted below)")
    rate = {}
    for workers in (1, 2):
        store = Store(shutil.copy(base, folder / f"ray{workers}.duckdb"))
        t0 = time.perf_counter()
        outcomes = run_with_ray(store, config, workers=workers, quiet=True)
        wall = time.perf_counter() - t0
        calls = fresh_calls(store)
        ideal = calls * lat / (c * workers)
        rate[workers] = n / wall
        print(f"ray --workers {workers}: {wall:.2f} s wall (actor start included), {calls} "
              f"model calls, ideal {ideal:.2f} s, ratio {wall / ideal:.2f}x, "
              f"{rate[workers]:.1f} instances/s, failed {failed(outcomes)}")
    print(f"throughput 2 workers / 1 worker: {rate[2] / rate[1]:.2f}x")
    ray.shutdown()


if __name__ == "__main__":
    main()
