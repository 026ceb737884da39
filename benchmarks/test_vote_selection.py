"""Test-vote selection (CodeMonkeys' vote) over N instances x 10 candidates x 10 tests on small
real git repositories, with the test matrix cold (everything runs) and warm (nothing runs).

Five tiny repositories (each one function with a seeded bug) are built in a temp dir and reused
under N instance ids. Each instance gets 10 distinct candidates (correct fixes, wrong fixes, a
broken one, with distinct comments so every diff is its own matrix row) and 10 test scripts that
check the function on different inputs (exit 0 fixed, 2 not fixed). The cold pass runs every
script on every candidate and the original code in `LocalSandbox` and records `test_runs`; the
warm pass repeats the selection on the same store and must execute nothing.

    .venv/bin/python benchmarks/test_vote_selection.py [--instances 300] [--workers 8]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from swepipe import event_loop
from swepipe.execute.sandbox import LocalSandbox, SandboxConfig
from swepipe.patch.apply import make_diff
from swepipe.protocols import StageContext
from swepipe.select.test_matrix import StoreTestMatrix
from swepipe.select.test_vote import TestVoteConfig, TestVoteSelector
from swepipe.store.store import Store
from swepipe.store.writer import StoreWriter
from swepipe.types import ExecutionOutput, Instance, Patch

# name -> (buggy body, fixed body, wrong bodies, reference implementation used by the tests)
FUNCS = {
    "add": ("a - b", "a + b", ["a * b", "abs(a) + abs(b)", "a + b + 1"], lambda a, b: a + b),
    "sub": ("b - a", "a - b", ["a + b", "abs(a - b)", "a - b - 1"], lambda a, b: a - b),
    "mul": ("a + b", "a * b", ["a ** b", "a * abs(b)", "a * b + 0 * a + (a > 5)"],
            lambda a, b: a * b),
    "mx": ("min(a, b)", "max(a, b)", ["a", "b", "(a + b) // 2"], max),
    "mn": ("max(a, b)", "min(a, b)", ["a", "b", "abs(min(a, b))"], min),
}
INPUTS = [(2, 3), (0, 4), (-2, 3), (7, 7), (-5, -1), (10, 0), (3, 9), (1, 1), (6, 2), (-3, 8)]


def module(name: str, body: str, note: str = "") -> str:
    return f"def {name}(a, b):\n    return {body}{note}\n"


def build_repo(root: Path, name: str, buggy: str) -> Path:
    repo = root / f"bench_{name}"
    (repo / "pkg").mkdir(parents=True)
    (repo / "pkg" / "__init__.py").write_text("")
    (repo / "pkg" / "ops.py").write_text(module(name, buggy))
    git = ["git", "-c", "user.email=b@b", "-c", "user.name=b"]
    for args in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "init"]):
        subprocess.run(git + args, cwd=repo, check=True)
    return repo


def candidates(name: str) -> list[Patch]:
    buggy, fixed, wrong, _ = FUNCS[name]
    before = {"pkg/ops.py": module(name, buggy)}
    bodies = [fixed] * 4 + wrong * 2  # 10 candidates; comments make every diff distinct
    out = [Patch(diff=make_diff(before, {"pkg/ops.py": module(name, b, f"  # cand {i}")}),
                 sample_idx=i, files=["pkg/ops.py"]) for i, b in enumerate(bodies[:9])]
    out.append(Patch(diff=make_diff(before, {"pkg/ops.py": module(name, "a +")}), sample_idx=9,
                     files=["pkg/ops.py"]))  # a syntax error: every test crashes
    return out


def tests(name: str) -> list[str]:
    ref = FUNCS[name][3]
    return [f"import sys\nfrom pkg.ops import {name}\n"
            f"sys.exit(0 if {name}({a}, {b}) == {ref(a, b)} else 2)\n" for a, b in INPUTS]


class CountingExecutor:
    def __init__(self, inner: LocalSandbox) -> None:
        self.inner, self.calls, self.scripts = inner, 0, 0

    async def run(self, repo: Path, command: Sequence[str], **kw: Any) -> ExecutionOutput:
        self.calls += 1
        self.scripts += sum(1 for f in (kw.get("files") or {}) if "/test_" in f)
        return await self.inner.run(repo, command, **kw)


async def one_pass(store: Store, executor: CountingExecutor, work: list[tuple[Instance, Path]],
                   workers: int) -> tuple[float, int]:
    selector = TestVoteSelector(TestVoteConfig())
    gate = asyncio.Semaphore(workers)
    wins = 0
    start = time.perf_counter()
    async with StoreWriter(store) as writer:
        matrix = StoreTestMatrix(store, writer)

        async def run(instance: Instance, repo: Path) -> bool:
            name = instance.extra["func"]
            patches = candidates(name)
            for p, t in zip(patches, tests(name)):
                p.test = t
            ctx = StageContext(model=None, repo_dir=repo, executor=executor,
                               extras={"test_matrix": matrix})
            async with gate:
                sel = await selector.select(instance, patches, ctx)
            return sel.chosen_sample_idx is not None and sel.chosen_sample_idx < 4

        wins = sum(await asyncio.gather(*(run(i, r) for i, r in work)))
    return time.perf_counter() - start, wins


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=300)
    parser.add_argument("--workers", type=int, default=8, help="instances selected at once")
    parser.add_argument("--scratch-dir", type=Path, default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="swepipe-bench-vote-") as tmp:
        root = Path(tmp)
        repos = {name: build_repo(root, name, spec[0]) for name, spec in FUNCS.items()}
        names = list(FUNCS)
        work = []
        for i in range(args.instances):
            name = names[i % len(names)]
            work.append((Instance(instance_id=f"bench__{name}-{i}", repo=f"bench/{name}",
                                  base_commit="HEAD", problem_statement=f"{name} is wrong",
                                  extra={"func": name}), repos[name]))
        store = Store(root / "store.duckdb")
        sandbox = LocalSandbox(SandboxConfig(memory_mb=1024, drain_s=0.5,
                                             scratch_dir=args.scratch_dir))
        print(f"{args.instances} instances x 10 candidates x 10 tests; isolation "
              f"{sandbox.level}, scratch {sandbox.scratch_root}, {args.workers} workers")
        for label in ("cold", "warm"):
            executor = CountingExecutor(sandbox)
            seconds, wins = await one_pass(store, executor, work, args.workers)
            rows = store.query("SELECT count(*) AS n FROM test_runs").to_pylist()[0]["n"]
            print(f"{label}: {seconds:8.1f} s  executed tests {executor.scripts:6d} "
                  f"(sandbox calls {executor.calls:5d})  test_runs rows {rows:6d}  "
                  f"correct fix chosen {wins}/{len(work)}")


if __name__ == "__main__":
    event_loop.run(main())
