"""A git repository with seeded bugs and tests, its instance, a fast sandbox, and a helper that
runs a generator the way the runner does: StageCache + StoreWriter + a ModelService on the
scripted server."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.repos.gitrepo import make_repo

from swepipe.datasets.ingest import ingest_instances
from swepipe.execute.sandbox import LocalSandbox, SandboxConfig
from swepipe.models.handle import Binding
from swepipe.models.local import SCRIPTED_MODEL, endpoint_service
from swepipe.models.scripted_rules import Script
from swepipe.models.scripted_server import ScriptedServer
from swepipe.models.settings import EndpointSettings
from swepipe.patch.apply import make_diff
from swepipe.protocols import StageContext
from swepipe.registry import build
from swepipe.store.stage_cache import StageCache, StageResult
from swepipe.store.writer import StoreWriter
from swepipe.types import CodePointer, Instance

OPS = '''"""Arithmetic helpers."""


def add(a, b):
    return a - b  # seeded bug


def mul(a, b):
    return a * b


def neg(a):
    return -a


def sub(a, b):
    return a - b


def clamp(x, lo, hi):
    if x < lo:
        return lo
    if x > hi:
        return lo  # seeded bug
    return x
'''
FIXED = OPS.replace("return a - b  # seeded bug", "return a + b").replace(
    "return lo  # seeded bug", "return hi")
TESTS = ("from calc.ops import add, clamp, mul\n\n\n"
         "def test_add():\n    assert add(2, 3) == 5\n\n\n"
         "def test_clamp():\n    assert clamp(9, 0, 5) == 5\n\n\n"
         "def test_mul():\n    assert mul(2, 3) == 6\n")
ISSUE = "calc.ops.add(2, 3) returns -1 instead of 5, and clamp(9, 0, 5) returns 0 instead of 5."



@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    make_repo(root, {"calc/__init__.py": "", "calc/ops.py": OPS, "tests/test_ops.py": TESTS})
    return root


@pytest.fixture
def instance() -> Instance:
    return Instance(instance_id="calc__calc-1", repo="calc/calc", base_commit="HEAD",
                    problem_statement=ISSUE,
                    patch=make_diff({"calc/ops.py": OPS}, {"calc/ops.py": FIXED}),
                    fail_to_pass=["tests/test_ops.py::test_add", "tests/test_ops.py::test_clamp"],
                    pass_to_pass=["tests/test_ops.py::test_mul"])


@pytest.fixture
def context() -> list[CodePointer]:
    return [CodePointer(file_path="calc/ops.py", kind="file", rank=0),
            CodePointer(file_path="calc/ops.py", start_line=4, end_line=5, kind="function",
                        symbol="add", rank=0)]


@pytest.fixture
def sandbox() -> LocalSandbox:
    return LocalSandbox(SandboxConfig(memory_mb=1024, drain_s=0.2))


@dataclass
class Run:
    result: StageResult
    config_hash: str
    calls: int
    """Requests the service sent to the server (not answered from the call cache)."""
    hits: int


async def run_generator(store, server: ScriptedServer, spec: dict[str, Any], instance: Instance,
                        context: list[CodePointer], *, repo: Path, executor=None,
                        policy: str = "use", wrap_model=None) -> Run:
    """One generate stage for one instance, through the stage and call caches, with a fresh
    ModelService (as a new process would have)."""
    ingest_instances(store, [instance], "test", "test")
    component, config = build("generate", spec)
    config_hash = config.hash()
    settings = EndpointSettings(base_url=server.base_url, max_retries=1, backoff_base_s=0.01,
                                timeout_s=30)
    async with StoreWriter(store) as writer:
        async with endpoint_service(store, writer, settings, model=SCRIPTED_MODEL) as service:
            model = service.handle(Binding(instance_id=instance.instance_id, stage="generate",
                                           config_hash=config_hash, policy=policy))
            ctx = StageContext(model=wrap_model(model) if wrap_model else model, repo_dir=repo,
                               executor=executor)
            cache = StageCache(store, writer, "generate", config_hash, policy=policy)
            try:
                result = await cache.get_or_compute(
                    instance, lambda: component.generate(instance, context, ctx))
            finally:
                calls, hits = service.calls, service.hits
    return Run(result, config_hash, calls, hits)


def chat_requests(server: ScriptedServer) -> int:
    return server.stats().get("chat", 0)


def patch_rows(store, config_hash: str) -> list[dict]:
    return store.query("SELECT * FROM patches WHERE config_hash = ? ORDER BY sample_idx",
                       [config_hash]).to_pylist()


@pytest.fixture
def make_server():
    servers = []

    def make(script: Script) -> ScriptedServer:
        server = ScriptedServer(script)
        server.__enter__()
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.__exit__(None, None, None)
