"""CodeMonkeys resume: 10 machines x 8 attempts, the process SIGKILLed mid-machine and resumed.

Each round: a fresh store and state dir; a child process runs the `codemonkeys` generate stage
(10 machines, 8 model replies each, every test and edit run in the local sandbox) against the
scripted server, which lives in this parent process so it counts requests across processes; the
child is SIGKILLed, then a fresh child resumes the stage to the end. Reported per round: the
chat requests the server saw, the distinct requests recorded in `sequences`, and their
requests an uninterrupted run makes, the repeated model calls (target 0). A repeat can only be a
request whose reply was not recorded when the process died (in flight, or answered but not yet
written to `sequences`); `avoidable` counts the others and must be 0, and `lost rows` counts
model turns missing from `sequences` after the resume (must be 0).

Kill modes:
- `step` (default): the child kills itself at a random step boundary: a model request about to
  be sent, or a sandbox run just started (where a machine spends its time between saves);
- `reply`: the child kills itself the moment a model reply arrives, before the machine could
  save it. The reply's `sequences` row is written asynchronously by the store writer, so it may
  not be durable yet: the resumed machine then sends that one request again (at most one repeat
  per kill; the window is a few milliseconds of CPU work in a real run);
- `time`: the parent kills the child after a random delay. A request in flight at that moment
  was seen by the server and is necessarily sent again: such a repeat is not avoidable by any
  design.

    python benchmarks/codemonkeys_resume.py [--rounds 5] [--mode step|reply|time] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from swepipe import event_loop
from swepipe.datasets.ingest import ingest_instances
from swepipe.execute.sandbox import LocalSandbox, SandboxConfig
from swepipe.models.handle import Binding
from swepipe.models.local import SCRIPTED_MODEL, endpoint_service
from swepipe.models.scripted_rules import Rule, Script
from swepipe.models.scripted_server import ScriptedServer
from swepipe.models.settings import EndpointSettings
from swepipe.patch.apply import make_diff
from swepipe.protocols import StageContext
from swepipe.registry import build
from swepipe.store import Store
from swepipe.store.stage_cache import StageCache
from swepipe.store.writer import StoreWriter
from swepipe.types import CodePointer, Instance

MACHINES, ATTEMPTS = 10, 8
OPS = "def add(a, b):\n    return a - b  # seeded bug\n\n\ndef mul(a, b):\n    return a * b\n"
F = "```"
TEST = "import sys\nfrom calc.ops import add\nsys.exit(0 if add(2, 3) == 5 else 2)"
EDIT = (f"<edit>\n{F}python\n### calc/ops.py\n<<<<<<< SEARCH\n    return a - b  # seeded bug\n"
        f"=======\n    return a + b\n>>>>>>> REPLACE\n{F}\n</edit>")
BAD_EDIT = (f"<edit>\n{F}python\n### calc/ops.py\n<<<<<<< SEARCH\n    return x - y\n=======\n"
            f"    return x + y\n>>>>>>> REPLACE\n{F}\n</edit>")
# never <done>: every machine uses all its attempts (tests, good and failing edits, rewrites)
SCRIPT = Script(rules=[
    Rule(pattern="First, write a test",
         reply=[f"<test>\n{F}python\n# variant {k}\n{TEST}\n{F}\n</test>" for k in range(3)]),
    Rule(pattern="Your edit produced", reply=[EDIT, f"<test>\n{F}python\n{TEST}\n{F}\n</test>"]),
    Rule(pattern="Your edit could not be used", reply=EDIT),
    Rule(pattern="Your test script was run", reply=[EDIT, BAD_EDIT]),
])
INSTANCE = Instance(instance_id="calc__calc-1", repo="calc/calc", base_commit="HEAD",
                    problem_statement="add(2, 3) returns -1 instead of 5",
                    patch=make_diff({"calc/ops.py": OPS},
                                    {"calc/ops.py": OPS.replace("a - b  # seeded bug", "a + b")}))
SPEC = {"component": "codemonkeys", "samples": MACHINES, "max_attempts": ATTEMPTS, "seed": 0,
        "test_timeout_s": 10}


def make_repo(root: Path) -> Path:
    (root / "calc").mkdir(parents=True)
    (root / "calc" / "__init__.py").write_text("")
    (root / "calc" / "ops.py").write_text(OPS)
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "init"]):
        subprocess.run(["git", "-c", "user.email=b@b", "-c", "user.name=b", *args], cwd=root,
                       check=True, capture_output=True)
    return root


class KillSwitch:
    """SIGKILLs this process at the n-th event of the kinds it counts."""

    def __init__(self, n: int | None, kinds: set[str]) -> None:
        self.n, self.kinds, self.events = n, kinds, 0

    def tick(self, kind: str) -> None:
        if kind not in self.kinds:
            return
        self.events += 1
        if self.n is not None and self.events >= self.n:
            os.kill(os.getpid(), signal.SIGKILL)


class Model:
    def __init__(self, inner, switch: KillSwitch) -> None:
        self.inner, self.switch, self.name = inner, switch, inner.name

    async def drain(self) -> None:
        await self.inner._service.drain()

    async def chat(self, *args, **kwargs):
        self.switch.tick("request")
        reply = await self.inner.chat(*args, **kwargs)
        self.switch.tick("reply")
        return reply


class Executor:
    def __init__(self, inner, switch: KillSwitch) -> None:
        self.inner, self.switch = inner, switch

    async def run(self, *args, **kwargs):
        self.switch.tick("run")
        return await self.inner.run(*args, **kwargs)


async def child(args: argparse.Namespace) -> None:
    kinds = {"reply"} if args.mode == "reply" else {"request", "run"}
    store, switch = Store(args.store), KillSwitch(args.kill_at, kinds)
    component, config = build("generate", {**SPEC, "state_dir": args.state_dir,
                                           "max_concurrency": args.concurrency})
    settings = EndpointSettings(base_url=args.base_url, max_retries=1, timeout_s=60)
    sandbox = LocalSandbox(SandboxConfig(memory_mb=1024, drain_s=0.2))
    context = [CodePointer(file_path="calc/ops.py")]
    async with StoreWriter(store) as writer:
        async with endpoint_service(store, writer, settings, model=SCRIPTED_MODEL) as service:
            handle = service.handle(Binding(instance_id=INSTANCE.instance_id, stage="generate",
                                            config_hash=config.hash()))
            ctx = StageContext(model=Model(handle, switch), repo_dir=Path(args.repo),
                               executor=Executor(sandbox, switch))
            cache = StageCache(store, writer, "generate", config.hash())
            result = await cache.get_or_compute(
                INSTANCE, lambda: component.generate(INSTANCE, context, ctx))
    print(json.dumps({"status": result.status, "error": result.error, "events": switch.events,
                      "calls": service.calls, "hits": service.hits}))


def distinct_requests(store_path: Path) -> int:
    return Store(store_path).query("SELECT count(DISTINCT request_hash) AS n FROM sequences"
                                   ).to_pylist()[0]["n"]


def run_child(base: list[str], kill_at: int | None = None, kill_after_s: float | None = None,
              ) -> tuple[int, float, dict]:
    cmd = base + (["--kill-at", str(kill_at)] if kill_at else [])
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=kill_after_s)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate()
    elapsed = time.perf_counter() - start
    info = json.loads(out.strip().splitlines()[-1]) if proc.returncode == 0 and out.strip() \
        else {"stderr": err.strip()[-300:]}
    return proc.returncode, elapsed, info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--mode", choices=["step", "reply", "time"], default="step")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--concurrency", type=int, default=MACHINES,
                        help="machines running at once (1: nothing else is in flight at a kill)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    for name in ("--store", "--state-dir", "--base-url", "--repo"):
        parser.add_argument(name, help=argparse.SUPPRESS)
    parser.add_argument("--kill-at", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        event_loop.run(child(args))
        return
    rng = random.Random(args.seed)
    totals = {"repeated": 0, "avoidable": 0, "lost": 0}
    print(f"{MACHINES} machines x {ATTEMPTS} attempts, {args.concurrency} at once, "
          f"kill mode {args.mode!r}")
    with tempfile.TemporaryDirectory() as tmp, ScriptedServer(SCRIPT) as server:
        repo = make_repo(Path(tmp) / "repo")
        full_time = events = baseline = None
        for round_ in range(args.rounds + 1):
            work = Path(tmp) / f"round{round_}"
            work.mkdir()
            store_path = work / "store.duckdb"
            ingest_instances(Store(store_path), [INSTANCE], "bench", "bench")
            base = [sys.executable, __file__, "--child", "--mode", args.mode,
                    "--concurrency", str(args.concurrency), "--store", str(store_path),
                    "--state-dir", str(work / "states"), "--base-url", server.base_url,
                    "--repo", str(repo)]
            seen0 = server.stats().get("chat", 0)
            if round_ == 0:  # an uninterrupted run: the event count and the time to beat
                code, full_time, info = run_child(base)
                events, baseline = info["events"], server.stats().get("chat", 0) - seen0
                print(f"uninterrupted: {full_time:.1f} s, {info['calls']} model calls, "
                      f"{events} events")
                continue
            if args.mode != "time":
                kill_at = rng.randint(1, events - 1)
                code, killed_s, _ = run_child(base, kill_at=kill_at)
                where = f"event {kill_at}/{events}"
            else:
                delay = rng.uniform(0.1, full_time * 0.9)
                code, killed_s, _ = run_child(base, kill_after_s=delay)
                where = f"after {delay:.1f} s"
            before = server.stats().get("chat", 0) - seen0
            recorded = distinct_requests(store_path)
            code2, resumed_s, info = run_child(base)
            seen = server.stats().get("chat", 0) - seen0
            rows = Store(store_path).query("SELECT count(*) AS n FROM patches").to_pylist()[0]["n"]
            repeated = seen - baseline
            avoidable = repeated - (before - recorded)
            lost = baseline - distinct_requests(store_path)
            for key, value in (("repeated", repeated), ("avoidable", avoidable), ("lost", lost)):
                totals[key] += value
            print(f"round {round_}: killed at {where} (exit {code}, {killed_s:.1f} s; {before} "
                  f"requests, {before - recorded} unrecorded) -> resumed in {resumed_s:.1f} s "
                  f"({info.get('calls')} calls, {info.get('hits')} cache hits, "
                  f"{info.get('status')}); repeated {repeated}, avoidable {avoidable}, "
                  f"lost rows {lost}; {rows} candidates")
    print(f"{args.rounds} rounds: repeated model calls {totals['repeated']} (target 0; "
          f"avoidable {totals['avoidable']}), lost sequences rows {totals['lost']}")


if __name__ == "__main__":
    main()
