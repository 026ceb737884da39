"""Fixtures: a git repository with a seeded bug (and pytest tests), its instance, candidate
patches (the gold fix, wrong fixes, noise-only variants), the real sandbox, a counting executor,
and the scripted model service writing to a real store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.repos.gitrepo import make_repo

from swepipe.execute.sandbox import LocalSandbox, SandboxConfig
from swepipe.models.handle import Binding, ModelService
from swepipe.models.local import scripted_service
from swepipe.models.scripted_rules import Script
from swepipe.patch.apply import make_diff
from swepipe.protocols import StageContext
from swepipe.store.store import Store
from swepipe.store.writer import StoreWriter
from swepipe.types import ExecutionOutput, Instance, Patch

OPS = ("def add(a, b):\n    return a - b  # seeded bug\n\n\n"
       "def mul(a, b):\n    return a * b\n")
FIXED = OPS.replace("a - b  # seeded bug", "a + b")
TESTS = "from calc.ops import mul\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n"

# CodeMonkeys-style test scripts: exit 0 fixed, 2 not fixed
ADD_TEST = "import sys\nfrom calc.ops import add\nsys.exit(0 if add(2, 3) == 5 else 2)\n"
ZERO_TEST = "import sys\nfrom calc.ops import add\nsys.exit(0 if add(0, 4) == 4 else 2)\n"
NEG_TEST = "import sys\nfrom calc.ops import add\nsys.exit(0 if add(-2, 3) == 1 else 2)\n"
# Agentless-style reproduction test
REPRO = ("from calc.ops import add\nif add(2, 3) == 5:\n    print('Issue resolved')\n"
         "else:\n    print('Issue reproduced')\n")


def diff_to(text: str) -> str:
    return make_diff({"calc/ops.py": OPS}, {"calc/ops.py": text})


GOLD = diff_to(FIXED)
GOLD_NOISY = diff_to(FIXED.replace("a + b", "a + b  # fixed"))
"""Same fix plus a comment: normalizes to the gold patch."""
WRONG_ABS = diff_to(OPS.replace("a - b  # seeded bug", "abs(a) + abs(b)"))
"""Right for non-negative numbers only: passes ADD_TEST and ZERO_TEST, fails NEG_TEST."""
LONG_FIX = diff_to(FIXED.replace("    return a + b\n", "    total = a + b\n    return total\n"))
"""A correct fix with more changed lines than GOLD."""
WRONG_MUL = diff_to(OPS.replace("a - b  # seeded bug", "a * b"))
"""Wrong: add(2, 3) == 6."""
BREAKS_MUL = diff_to(FIXED.replace("return a * b", "return a + b"))
"""Fixes add but breaks mul (a regression)."""


def patch(diff: str, idx: int, **kw: Any) -> Patch:
    return Patch(diff=diff, sample_idx=idx, files=["calc/ops.py"] if diff else [],
                 status=kw.pop("status", "ok" if diff else "empty"), **kw)



@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "calc_repo"
    make_repo(root, {"calc/__init__.py": "", "calc/ops.py": OPS, "tests/test_mul.py": TESTS})
    return root


@pytest.fixture
def instance() -> Instance:
    return Instance(
        instance_id="calc__calc-1", repo="calc/calc", base_commit="HEAD",
        problem_statement="add() subtracts instead of adding", patch=GOLD,
        test_patch=make_diff({}, {"tests/test_add.py": "from calc.ops import add\n\n\n"
                                  "def test_add():\n    assert add(2, 3) == 5\n"}),
        fail_to_pass=["tests/test_add.py::test_add"],
        pass_to_pass=["tests/test_mul.py::test_mul"])


class CountingExecutor:
    """The real sandbox, counting calls and the test scripts they carried."""

    def __init__(self, inner: LocalSandbox) -> None:
        self.inner, self.calls, self.scripts = inner, 0, 0

    async def run(self, repo: Path, command: Sequence[str], **kw: Any) -> ExecutionOutput:
        self.calls += 1
        self.scripts += sum(1 for f in (kw.get("files") or {}) if "/test_" in f)
        return await self.inner.run(repo, command, **kw)


@pytest.fixture
def sandbox() -> CountingExecutor:
    return CountingExecutor(LocalSandbox(SandboxConfig(memory_mb=1024, drain_s=0.5)))


def context(repo: Path | None = None, executor: Any = None, model: Any = None,
            **extras: Any) -> StageContext:
    return StageContext(model=model, repo_dir=repo, executor=executor, extras=dict(extras))


class Scripted:
    """A scripted model service on a real store; `handle()` is what a runner would pass."""

    def __init__(self, store: Store, service: ModelService, server: Any) -> None:
        self.store, self.service, self.server = store, service, server

    def handle(self, instance_id: str = "calc__calc-1", config_hash: str = "c" * 64) -> Any:
        return self.service.handle(Binding(instance_id=instance_id, stage="select",
                                           config_hash=config_hash))

    def enqueue(self, *replies: str) -> None:
        self.server.enqueue(*replies)


@pytest.fixture
async def scripted(store: Store) -> AsyncIterator[Scripted]:
    async with StoreWriter(store) as writer:
        async with scripted_service(store, writer, Script(default="I am not sure.")) as (
                service, server):
            yield Scripted(store, service, server)
