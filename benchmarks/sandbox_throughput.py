"""Apply and test 200 candidate patches on a small real repository, with 1 and 2 workers.

Builds a git repository with a seeded bug and pytest tests in a temp dir, makes N candidates
(a third fix the bug, a third are wrong, a third do not apply), runs each through the gold-test
runner in `LocalSandbox`, and prints candidates per second per worker count, the 2-vs-1 ratio,
and the mean time of a sandbox start (copy + isolation + `true` + cleanup).

    .venv/bin/python benchmarks/sandbox_throughput.py [--n 200] [--scratch-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import tempfile
import time
from pathlib import Path

from swepipe import event_loop
from swepipe.execute.gold_tests import run_gold_tests
from swepipe.execute.sandbox import LocalSandbox, SandboxConfig, time_sandbox_start
from swepipe.patch.apply import make_diff
from swepipe.types import Instance

OPS = "def add(a, b):\n    return a - b\n\n\ndef mul(a, b):\n    return a * b\n"
TESTS = "from calc.ops import add, mul\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n" \
        "def test_mul():\n    assert mul(2, 3) == 6\n"


def build_repo(root: Path) -> Instance:
    (root / "calc").mkdir(parents=True)
    (root / "calc/__init__.py").write_text("")
    (root / "calc/ops.py").write_text(OPS)
    for i in range(30):  # some bulk, so the copy is not trivially small
        (root / "calc" / f"mod{i}.py").write_text(f"def f{i}(x):\n    return x + {i}\n" * 40)
    git = ["git", "-c", "user.email=b@b", "-c", "user.name=b"]
    subprocess.run(git + ["init", "-q"], cwd=root, check=True)
    subprocess.run(git + ["add", "-A"], cwd=root, check=True)
    subprocess.run(git + ["commit", "-qm", "init"], cwd=root, check=True)
    return Instance(instance_id="bench__calc-1", repo="bench/calc", base_commit="HEAD",
                    problem_statement="add subtracts",
                    test_patch=make_diff({}, {"tests/test_ops.py": TESTS}),
                    fail_to_pass=["tests/test_ops.py::test_add"],
                    pass_to_pass=["tests/test_ops.py::test_mul"])


def candidates(n: int) -> list[str]:
    good = make_diff({"calc/ops.py": OPS}, {"calc/ops.py": OPS.replace("a - b", "a + b")})
    wrong = make_diff({"calc/ops.py": OPS}, {"calc/ops.py": OPS.replace("a - b", "a * b")})
    stale = make_diff({"calc/ops.py": "x = 1\n"}, {"calc/ops.py": "x = 2\n"})
    return [(good, wrong, stale)[i % 3] for i in range(n)]


async def run_all(sandbox: LocalSandbox, instance: Instance, repo: Path, diffs: list[str],
                  workers: int) -> tuple[float, int]:
    queue: asyncio.Queue[str] = asyncio.Queue()
    for d in diffs:
        queue.put_nowait(d)
    resolved = 0

    async def worker() -> None:
        nonlocal resolved
        while not queue.empty():
            result = await run_gold_tests(instance, queue.get_nowait(), sandbox, repo)
            resolved += result.resolved

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return time.perf_counter() - start, resolved


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--scratch-dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp) / "repo"
        instance = build_repo(repo)
        sandbox = LocalSandbox(SandboxConfig(scratch_dir=args.scratch_dir))
        print(f"isolation: {sandbox.level}, scratch: {sandbox.scratch_root}, "
              f"cpus: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}")
        start_s = await time_sandbox_start(sandbox, repo, n=20)
        print(f"sandbox start (copy + isolate + run `true` + remove): {start_s * 1000:.1f} ms")
        diffs = candidates(args.n)
        rates = {}
        for workers in (1, 2):
            elapsed, resolved = await run_all(sandbox, instance, repo, diffs, workers)
            rates[workers] = len(diffs) / elapsed
            print(f"{workers} worker(s): {len(diffs)} candidates in {elapsed:.1f} s = "
                  f"{rates[workers]:.2f} candidates/s ({resolved} resolved)")
        print(f"2 workers vs 1: {rates[2] / rates[1]:.2f}x "
              f"(load average now {os.getloadavg()[0]:.2f}: other work on the machine skews this)")


if __name__ == "__main__":
    event_loop.run(main())
