"""A git repository with a seeded bug and real pytest tests, and its SWE-bench-style instance."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.repos.gitrepo import make_repo

from swepipe.execute.sandbox import LocalSandbox, SandboxConfig
from swepipe.patch.apply import make_diff
from swepipe.types import Instance

OPS = "def add(a, b):\n    return a - b  # seeded bug\n\n\ndef mul(a, b):\n    return a * b\n"
OLD_TESTS = "from calc.ops import mul\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n"
NEW_TESTS = ("from calc.ops import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\n"
             "def test_add_zero():\n    assert add(0, 0) == 0\n")



@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    make_repo(root, {"calc/__init__.py": "", "calc/ops.py": OPS, "tests/test_mul.py": OLD_TESTS})
    return root


@pytest.fixture
def instance() -> Instance:
    return Instance(
        instance_id="calc__calc-1", repo="calc/calc", base_commit="HEAD",
        problem_statement="add() subtracts",
        patch=make_diff({"calc/ops.py": OPS}, {"calc/ops.py": OPS.replace("a - b", "a + b")}),
        test_patch=make_diff({}, {"tests/test_add.py": NEW_TESTS}),
        fail_to_pass=["tests/test_add.py::test_add"],
        pass_to_pass=["tests/test_add.py::test_add_zero", "tests/test_mul.py::test_mul"])


@pytest.fixture
def sandbox() -> LocalSandbox:
    return LocalSandbox(SandboxConfig(memory_mb=1024, drain_s=0.5))


PY = sys.executable
