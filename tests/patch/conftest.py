"""A small git repository with a seeded bug, built fresh per test."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

OPS = '''"""Arithmetic helpers."""


def add(a, b):
    """Return the sum."""
    # seeded bug: subtracts
    return a - b


def mul(a, b):
    return a * b
'''


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=repo,
                          check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "calc").mkdir(parents=True)
    (root / "calc" / "__init__.py").write_text("")
    (root / "calc" / "ops.py").write_text(OPS)
    (root / "README.md").write_text("calc\n\nA   tiny library.\n")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "init")
    return root
