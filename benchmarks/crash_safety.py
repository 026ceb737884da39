"""Crash safety: SIGKILL `swepipe run` at 10 random moments, resume each time, and compare the
final store with an uninterrupted run's.

Both stores start from the same ingested instances and run the same config against one
scripted server (in its own process, 50 ms latency). The interrupted store must hold, per
(stage, config, instance), exactly one `done` attempt and no failed one; the same outputs
(localizations, patches, selections and the test matrix, compared by content with
`store/results.py`: attempt numbers, run ids, timestamps and test output ignored); no output row
without its `done` mark; and the model calls of every done stage. With `--executor ray` the
kill takes the driver's whole process group (its local Ray cluster too), and `--chunk-size N`
sets the instances per Ray task, so that kills land while chunks are being computed. Every
subprocess has a timeout and the loop is bounded, so the script always stops.

    python benchmarks/crash_safety.py [--config auto|builtin|FILE] [--instances 200]
        [--kills 10] [--seed 0] [--latency-ms 50] [--executor local|ray] [--chunk-size N]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _bench_pipeline import BENCH_DIR, ServerProcess, prepare  # noqa: E402

from swepipe.store import Store  # noqa: E402
from swepipe.store.results import result_tables  # noqa: E402

RUN_TIMEOUT_S = 600
# result tables compared by content (store/results.py: no attempts, run ids, times, outputs)
COMPARED = ("localizations", "patches", "selections", "test_runs")
STAGE_OF = {"localizations": "localize", "patches": "generate", "selections": "select"}


def run_cmd(store: Path, config: str, overrides: list[str], executor: str,
            chunk_size: int | None = None) -> list[str]:
    chunks = ["--chunk-size", str(chunk_size)] if chunk_size else []
    return [sys.executable, "-m", "swepipe.cli", "--store", str(store), "run", config,
            *overrides, "--executor", executor, "--workers", "2", *chunks]


def env() -> dict[str, str]:
    # the built-in pipeline's components live in benchmarks/_bench_pipeline.py
    path = os.pathsep.join(p for p in (str(BENCH_DIR), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path}


def run_to_end(cmd: list[str]) -> tuple[int, float]:
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, timeout=RUN_TIMEOUT_S)
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
    return done.returncode, time.perf_counter() - t0


def run_watched(cmd: list[str], store: Path) -> tuple[int, float, float]:
    """Run to the end, watching the store: (exit code, seconds, seconds to the first committed
    result). On Ray the start-up (cluster, actors) is what comes before that first commit."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    first = None
    while first is None and time.perf_counter() - t0 < RUN_TIMEOUT_S:
        try:
            proc.wait(timeout=0.25)
            break
        except subprocess.TimeoutExpired:
            if Store(store).query(DONE_SQL, read_only=True).to_pylist()[0]["n"]:
                first = time.perf_counter() - t0
    _, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    span = time.perf_counter() - t0
    if proc.returncode != 0:
        print(err[-2000:], file=sys.stderr)
    return proc.returncode, span, first if first is not None else span / 2


def kill_at(cmd: list[str], delay: float) -> bool:
    """Start the run, SIGKILL it after `delay` s. False when it had finished before."""
    proc = subprocess.Popen(cmd, env=env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        proc.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        # the whole process group: with --executor ray the driver's Ray children go too
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
        return True


DONE_SQL = "SELECT count(*) AS n FROM stage_runs WHERE status = 'done'"


def done_count(store: Path) -> int:
    return Store(store).query(DONE_SQL).to_pylist()[0]["n"]


def snapshot(path: Path) -> dict[str, object]:
    store = Store(path)
    q = lambda sql: store.query(sql).to_pylist()  # noqa: E731
    out: dict[str, object] = {
        "keys": sorted((r["stage"], r["config_hash"], r["instance_id"]) for r in q(
            "SELECT DISTINCT stage, config_hash, instance_id FROM stage_runs "
            "WHERE status = 'done'")),
        "duplicate_done": q("SELECT count(*) AS n FROM (SELECT 1 FROM stage_runs WHERE "
                            "status = 'done' GROUP BY stage, config_hash, instance_id "
                            "HAVING count(*) > 1)")[0]["n"],
        "failed": q("SELECT count(*) AS n FROM stage_runs WHERE status <> 'done'")[0]["n"],
        "done_without_calls": q(
            "SELECT count(*) AS n FROM stage_runs AS s WHERE s.status = 'done' AND s.stage IN "
            "(SELECT DISTINCT stage FROM sequences) AND NOT EXISTS (SELECT 1 FROM sequences AS q "
            "WHERE q.stage = s.stage AND q.config_hash = s.config_hash "
            "AND q.instance_id = s.instance_id AND q.status = 'ok')")[0]["n"],
        "sequences": q("SELECT count(*) AS n FROM sequences")[0]["n"],
        "fresh_calls": q("SELECT count(*) AS n FROM sequences WHERE NOT from_cache")[0]["n"],
        "runs": q("SELECT count(*) AS n FROM runs")[0]["n"],
    }
    out.update(result_tables(store, COMPARED))
    for table in STAGE_OF:
        out[f"{table}_orphans"] = q(
            f"SELECT count(*) AS n FROM {table} AS o WHERE NOT EXISTS (SELECT 1 FROM stage_runs "
            f"AS s WHERE s.stage = '{STAGE_OF[table]}' AND s.config_hash = o.config_hash AND "
            "s.instance_id = o.instance_id AND s.attempt = o.attempt AND s.status = 'done')"
        )[0]["n"]
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="auto")
    parser.add_argument("--script", help="scripted-server script (default: model.script)")
    parser.add_argument("--instances", type=int, default=200)
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--latency-ms", type=float, default=50.0)
    parser.add_argument("--executor", choices=["local", "ray"], default="local")
    parser.add_argument("--chunk-size", type=int, default=None,
                        help="instances per Ray task (--executor ray): large chunks make kills "
                             "land mid-chunk, losing the chunk's uncommitted work")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base, config, script, overrides = prepare(folder, args.instances, args.config,
                                                  args.script)
        server = ServerProcess(script, args.latency_ms)
        try:
            overrides.append(server.endpoint(8))
            ref = Path(shutil.copy(base, folder / "reference.duckdb"))
            def cmd_for(store: Path) -> list[str]:
                return run_cmd(store, config, overrides, args.executor, args.chunk_size)

            rc, span, first = run_watched(cmd_for(ref), ref)
            print(f"uninterrupted run ({config}, {args.instances} instances, "
                  f"{args.executor}): exit {rc}, {span:.1f} s, first result after {first:.1f} s")
            # start-up: the same command on a finished store (imports, server, cache reads);
            # a finished store starts no Ray, so there it is the time to the first result
            rc_check, startup = run_to_end(cmd_for(ref))
            if args.executor == "ray":
                startup = max(startup, first)
            work = max(span - startup, 0.5)
            print(f"start-up and resume check {startup:.1f} s (exit {rc_check}), "
                  f"work {work:.1f} s")
            crash = Path(shutil.copy(base, folder / "crashed.duckdb"))
            cmd = cmd_for(crash)
            killed = 0
            for k in range(args.kills):
                # from mid start-up to a slice of the work, so that ten kills fit in one run's
                # work and most land while results are being computed and committed
                delay = rng.uniform(0.5 * startup, startup + work / args.kills)
                hit = kill_at(cmd, delay)
                killed += hit
                print(f"  kill {k + 1}: after {delay:.2f} s "
                      f"{'SIGKILL' if hit else '(had finished)'}, done stage results so far "
                      f"{done_count(crash)}")
            rc_final, _ = run_to_end(cmd)
            print(f"final resume: exit {rc_final}")
        finally:
            server.close()
        a, b = snapshot(ref), snapshot(crash)
    report(a, b, killed, rc == 0 and rc_check == 0 and rc_final == 0)


def report(ref: dict, got: dict, killed: int, exits_ok: bool) -> None:
    lost = len(set(ref["keys"]) - set(got["keys"]))
    extra = len(set(got["keys"]) - set(ref["keys"]))
    same = {t: ref[t] == got[t] for t in COMPARED}
    orphans = sum(got[f"{t}_orphans"] for t in STAGE_OF)
    print(f"stage results: reference {len(ref['keys'])}, interrupted {len(got['keys'])}; "
          f"lost {lost}, unexpected {extra}, duplicate done {got['duplicate_done']}, "
          f"failed attempts {got['failed']}")
    print("outputs equal: " + ", ".join(f"{t} {len(got[t])} rows {'yes' if same[t] else 'NO'}"
                                        for t in COMPARED))
    print(f"orphan output rows {orphans}; done results without their model calls "
          f"{got['done_without_calls']}; model calls made {got['fresh_calls']} (reference "
          f"{ref['fresh_calls']}: a call in flight at a kill is made again), sequence rows "
          f"{got['sequences']} (reference {ref['sequences']}: a resumed stage logs its stored "
          f"calls as cache hits); runs {got['runs']}")
    ok = (exits_ok and killed > 0 and lost == 0 and extra == 0 and got["duplicate_done"] == 0
          and got["failed"] == 0 and all(same.values()) and orphans == 0
          and got["done_without_calls"] == 0)
    print(f"{'PASS' if ok else 'FAIL'}: {killed} SIGKILLs, resumed each time")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
