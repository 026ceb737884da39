"""Presets and mixes on the bundled mini-benchmark, with the demo's scripted model."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from swepipe.datasets.ingest import ingest_instances
from swepipe.demo_script import demo_script
from swepipe.experiments.commands import run_config
from swepipe.experiments.config import load_config
from swepipe.minibench import build_minibench
from swepipe.models import ScriptedServer
from swepipe.store import Store

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def minibench(tmp_path, store):
    ingest_instances(store, build_minibench(tmp_path / "repos"), "minibench", "test")
    script = tmp_path / "script.json"
    script.write_text(demo_script().model_dump_json())
    return store, [f"repos_dir={tmp_path / 'repos'}", f"cache_dir={tmp_path / 'cache'}",
                   f"model.script={script}"], script


async def test_a_mix_of_codemonkeys_context_agentless_sampling_and_test_vote_runs(minibench):
    store, overrides, _ = minibench
    config = load_config(None, overrides + [
        "dataset=minibench", "localize.component=codemonkeys", "generate.component=agentless",
        "generate.samples=2", "select.component=test_vote"])
    outcomes, runner = await run_config(store, config, live=False)
    assert [o.failed for o in outcomes] == [False] * 3
    assert all(o.selection.patch for o in outcomes)
    assert runner.token_totals()["calls"] > 0


async def test_retrieval_with_a_served_embedder_uses_the_endpoint(minibench):
    store, overrides, _ = minibench
    with ScriptedServer() as server:
        config = load_config(None, overrides + [
            "dataset=minibench", "localize.component=retrieval",
            "localize.embedder=scripted-embed", "generate.component=oracle",
            "select.component=first", "embedder.name=scripted-embed",
            f"embedder.endpoint.base_url={server.base_url}"])
        outcomes, _ = await run_config(store, config, live=False)
        embed_requests = server.stats().get("embeddings", 0) + server.stats().get(
            "requests.embeddings", 0)
    assert [o.failed for o in outcomes] == [False] * 3
    files = {o.instance_id: o.results["localize"].value[0].file_path for o in outcomes}
    assert len(files) == 3 and all(f.endswith(".py") for f in files.values())
    assert embed_requests > 0 or any(k.startswith("embed") for k in server.stats())


def test_ctrl_c_leaves_a_store_that_resumes_cleanly(minibench, tmp_path):
    store, overrides, script = minibench
    slow = json.loads(script.read_text())
    slow["latency"] = {"mean_ms": 500}
    script.write_text(json.dumps(slow))
    cmd = [sys.executable, "-m", "swepipe.cli", "--store", str(store.path), "run", "codemonkeys",
           *overrides]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
    deadline = time.monotonic() + 120
    reader = Store(store.path, create=False)
    while time.monotonic() < deadline and proc.poll() is None:  # until the first call is logged
        if store.path.exists() and reader.query("SELECT count(*) AS n FROM sequences",
                                                read_only=True).to_pylist()[0]["n"] >= 1:
            break
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err[-2000:]
    status = store.query("SELECT status FROM runs").to_pylist()
    assert status == [{"status": "interrupted"}]
    again = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert again.returncode == 0, again.stderr[-2000:]
    rows = store.query("SELECT stage, count(*) AS n, count(DISTINCT instance_id) AS ids "
                       "FROM stage_runs WHERE status = 'done' GROUP BY 1 ORDER BY 1").to_pylist()
    assert rows == [{"stage": s, "n": 3, "ids": 3} for s in ("generate", "localize", "select")]
