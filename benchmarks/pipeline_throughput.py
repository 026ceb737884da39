"""Pipeline throughput, two figures, each against a baseline measured in the same run.

1. Model-bound: `--instances` (300) replicated mini-benchmark instances through `--config`
   (default `builtin`, the model-only pipeline of _bench_pipeline.py) against the scripted
   server at `--latency-ms` (400), locally and on Ray with 1 and 2 workers. Ideal wall time =
   model calls x latency / C, where C is the most requests in flight: the endpoint's
   `max_concurrency` per process (`--concurrency`; every stage's instance concurrency is set
   to the same value so the endpoint is the only bound); on Ray each worker has its own client,
   so the ideal with w workers divides by w * C. Target: 2 workers >= 1.6x the throughput of 1.
   The default latency keeps the run bound by the model on 2 cores (real endpoints answer in
   seconds); at 50 ms the pipeline's own CPU (~20 ms per instance) is the bound instead, and
   the script says so when the local run is over 1.2x its ideal.
2. Test-bound: the `agentless` preset as shipped (in-process scripted model) on
   `--agentless-instances` (30) replicas, locally, with every sandbox execution recorded; then
   the same executions replayed alone (same sandbox, as many at once as the run had at most).
   Target: the run within 1.5x of its test runs alone.

Every store starts empty. Throughputs count completed instances only (no failed stage); any
failed stage, or replayed execution that raised, is reported and makes the script exit 1.

    python benchmarks/pipeline_throughput.py [--config builtin|agentless|FILE] [--script FILE]
        [--instances 300] [--latency-ms 400] [--concurrency 16] [--no-ray]
        [--agentless-instances 30]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from _bench_pipeline import ServerProcess, prepare  # noqa: E402

from swepipe import event_loop  # noqa: E402
from swepipe.execute.executors import Executors  # noqa: E402
from swepipe.execute.sandbox import LocalSandbox  # noqa: E402
from swepipe.experiments.commands import run_config  # noqa: E402
from swepipe.experiments.config import load_config  # noqa: E402
from swepipe.experiments.runner import Runner  # noqa: E402
from swepipe.store import Store  # noqa: E402

RAY_TARGET, SANDBOX_TARGET = 1.6, 1.5
MODEL_BOUND = 1.2  # local wall over ideal above which the run is not bound by the model


def fresh_calls(store: Store) -> int:
    return store.query("SELECT count(*) AS n FROM sequences WHERE NOT from_cache "
                       "AND status = 'ok'").to_pylist()[0]["n"]


class Tally:
    """Completed and failed instances over every run of the script."""

    def __init__(self) -> None:
        self.failed: dict[str, int] = {}

    def run(self, label: str, outcomes: list[Any], wall: float) -> float:
        """Record a run; its throughput over completed instances (instances/s)."""
        bad = sum(o.failed for o in outcomes)
        if bad:
            self.failed[label] = bad
        return (len(outcomes) - bad) / wall

    def clean(self, *labels: str) -> bool:
        """No failed stage in these runs: a ratio between them measures the work asked."""
        return not any(label in self.failed for label in labels)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="builtin",
                        help="builtin (model calls only), agentless, or a config file")
    parser.add_argument("--script", help="scripted-server script (default: the config's "
                                             "model.script)")
    parser.add_argument("--instances", type=int, default=300)
    parser.add_argument("--latency-ms", type=float, default=400.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--no-ray", action="store_true", help="skip the Ray runs")
    parser.add_argument("--agentless-instances", type=int, default=30,
                        help="instances for the agentless-vs-test-runs figure (0: skip it)")
    args = parser.parse_args()
    tally = Tally()
    with tempfile.TemporaryDirectory() as tmp:
        model_bound(Path(tmp) / "model", args, tally)
        if args.agentless_instances:
            test_bound(Path(tmp) / "tests", args.agentless_instances, tally)
    if tally.failed:
        print(f"FAILED work: {tally.failed} (instances with a failed stage, or executions "
              "that raised, per run)")
        sys.exit(1)
    print("0 failed in every run")


def model_bound(folder: Path, args: argparse.Namespace, tally: Tally) -> None:
    folder.mkdir(parents=True)
    lat, c, n = args.latency_ms / 1000, args.concurrency, args.instances
    base, config_arg, script, overrides = prepare(folder, n, args.config, args.script)
    server = ServerProcess(script, args.latency_ms)
    try:
        overrides += [server.endpoint(c)] + [f"concurrency.{s}={c}"
                                             for s in ("localize", "generate", "select")]
        config = load_config(config_arg, overrides)
        print(f"1. pipeline {config.name} ({config_arg}) on {n} instances, scripted server at "
              f"{args.latency_ms:.0f} ms, {c} requests in flight per process")
        store = Store(shutil.copy(base, folder / "local.duckdb"))
        t0 = time.perf_counter()
        outcomes, runner = event_loop.run(run_config(store, config, live=False))
        wall = time.perf_counter() - t0
        rate = tally.run("local", outcomes, wall)
        calls = runner.token_totals()["calls"]
        ideal = calls * lat / c
        print(f"local: {wall:.2f} s wall, {calls} model calls, ideal {ideal:.2f} s "
              f"(calls x {args.latency_ms:.0f} ms / {c}), ratio {wall / ideal:.2f}x, "
              f"{rate:.1f} completed instances/s, failed {tally.failed.get('local', 0)}")
        if wall / ideal > MODEL_BOUND:
            print(f"note: local is {wall / ideal:.2f}x its ideal: at this latency the run is bound "
                  f"by CPU, not the model, and the Ray ratio measures cores, not the model")
        if not args.no_ray:
            ray_runs(folder, base, config, lat, c, tally)
    finally:
        server.close()


def ray_runs(folder: Path, base: Path, config: Any, lat: float, c: int, tally: Tally) -> None:
    import ray

    from swepipe.experiments.ray_executor import run_with_ray

    t0 = time.perf_counter()
    ray.init(num_cpus=2, include_dashboard=False)
    print(f"ray.init(num_cpus=2): {time.perf_counter() - t0:.1f} s (not counted below)")
    rate = {}
    try:
        for workers in (1, 2):
            store = Store(shutil.copy(base, folder / f"ray{workers}.duckdb"))
            t0 = time.perf_counter()
            outcomes = run_with_ray(store, config, workers=workers, quiet=True)
            wall = time.perf_counter() - t0
            label = f"ray --workers {workers}"
            rate[workers] = tally.run(label, outcomes, wall)
            calls = fresh_calls(store)
            ideal = calls * lat / (c * workers)
            print(f"{label}: {wall:.2f} s wall (actor start included), {calls} model calls, "
                  f"ideal {ideal:.2f} s, ratio {wall / ideal:.2f}x, {rate[workers]:.1f} "
                  f"completed instances/s, failed {tally.failed.get(label, 0)}")
    finally:
        ray.shutdown()
    if not tally.clean("ray --workers 1", "ray --workers 2"):
        print("throughput 2 workers / 1 worker: not computed (a Ray run had failed stages)")
    elif rate[1] > 0:
        ratio = rate[2] / rate[1]
        print(f"throughput 2 workers / 1 worker (completed instances): {ratio:.2f}x "
              f"(target >= {RAY_TARGET}x: {'met' if ratio >= RAY_TARGET else 'NOT met'})")
    else:
        print("throughput 2 workers / 1 worker: n/a (1 worker completed nothing)")


class RecordingExecutor:
    """The run's sandbox, with every execution's arguments and the most at once recorded."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
        self.running = self.most = 0

    async def run(self, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((args, kwargs))
        self.running += 1
        self.most = max(self.most, self.running)
        try:
            return await self.inner.run(*args, **kwargs)
        finally:
            self.running -= 1


async def recorded_run(store: Store, config: Any) -> tuple[list[Any], RecordingExecutor]:
    async with Runner.open(store, config) as runner:
        recorder = RecordingExecutor(LocalSandbox(config.sandbox))
        runner.executors = Executors.wrap(recorder)
        return await runner.run(), recorder


async def replay(recorder: RecordingExecutor) -> int:
    """The recorded executions again, alone, at most `recorder.most` at once; the failures."""
    gate = asyncio.Semaphore(max(recorder.most, 1))

    async def one(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        async with gate:
            try:
                await recorder.inner.run(*args, **kwargs)
                return True
            except Exception:  # noqa: BLE001 - counted (the run recorded it as an outcome)
                return False

    done = await asyncio.gather(*(one(a, k) for a, k in recorder.calls))
    return done.count(False)


def test_bound(folder: Path, n: int, tally: Tally) -> None:
    folder.mkdir(parents=True)
    base, config_arg, _, overrides = prepare(folder, n, "agentless")
    config = load_config(config_arg, overrides)
    store = Store(shutil.copy(base, folder / "agentless.duckdb"))
    print(f"2. agentless preset (in-process scripted model) on {n} instances, locally")
    t0 = time.perf_counter()
    outcomes, recorder = event_loop.run(recorded_run(store, config))
    wall = time.perf_counter() - t0
    rate = tally.run("agentless local", outcomes, wall)
    t0 = time.perf_counter()
    errors = event_loop.run(replay(recorder))
    alone = time.perf_counter() - t0
    if errors:  # failed work, as a failed stage is: main exits 1
        tally.failed["agentless replay"] = errors
    print(f"agentless local: {wall:.2f} s wall, {rate:.1f} completed instances/s, failed "
          f"{tally.failed.get('agentless local', 0)}")
    print(f"its {len(recorder.calls)} sandbox executions alone (at most {recorder.most} at "
          f"once, as in the run): {alone:.2f} s ({errors} raised)")
    if not tally.clean("agentless local", "agentless replay"):
        # a time over failed work measures less than the run did
        print("run / test runs alone: not computed (failed stages in the run, or executions "
              "that raised in the replay)")
        return
    ratio = wall / alone
    print(f"run / test runs alone: {ratio:.2f}x "
          f"(target <= {SANDBOX_TARGET}x: {'met' if ratio <= SANDBOX_TARGET else 'NOT met'})")


if __name__ == "__main__":
    main()
