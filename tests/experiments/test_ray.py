"""`--executor ray`: the same pipeline as test_runner.py, spread over two Ray workers.

Ray starts once for the package (conftest.py, about 5 s). The worker itself is also tested
without Ray: plan -> PipelineWorker.run -> commit_chunk in this process.
"""

from __future__ import annotations

import asyncio

import pytest

from swepipe.datasets.ingest import ingest_instances, load_instances
from swepipe.errors import InputError
from swepipe.experiments.commands import run_config
from swepipe.experiments.config import build_stages, load_config
from swepipe.experiments.ray_executor import _absolute_paths, commit_chunk, plan, run_with_ray
from swepipe.experiments.ray_calls import CallBroker
from swepipe.experiments.ray_worker import Chunk, PipelineWorker
from swepipe.experiments.runner import StageCounts
from swepipe.store import Store
from swepipe.store.results import result_tables
from swepipe.types import STAGES
from tests.experiments.pkg import DIFF, make_pkg_repo, pipeline_overrides, pkg_instances


def _store(tmp_path, name: str, commit: str) -> Store:
    store = Store(tmp_path / f"{name}.duckdb", lock_timeout_s=20)
    ingest_instances(store, pkg_instances(commit, 6), "mini", "test")
    return store


@pytest.fixture
def pipeline(tmp_path):
    repos = tmp_path / "repos"
    commit = make_pkg_repo(repos)
    return lambda name: _store(tmp_path, name, commit), pipeline_overrides(tmp_path, repos)


def _rows(store: Store) -> dict[str, list[tuple]]:
    return result_tables(store, ("stage_runs", "localizations", "patches", "selections"))


def _fresh_calls(store: Store, run_id: str) -> int:
    return store.query("SELECT count(*) AS n FROM sequences WHERE run_id = ? AND NOT from_cache",
                       [run_id]).to_pylist()[0]["n"]


async def test_worker_chunk_commits_the_same_rows_as_the_local_runner(pipeline):
    make_store, overrides = pipeline
    config = load_config(None, overrides)
    local = make_store("local")
    await run_config(local, config, live=False)
    detached = make_store("detached")
    stages = build_stages(config)
    counts = {s: StageCounts() for s in STAGES}
    finished, items = plan(detached, config, stages, load_instances(detached, "mini"), counts)
    assert finished == {} and len(items) == 6
    # run in a thread: the worker starts its own event loop, as a Ray actor does
    worker = PipelineWorker(config, "r1", CallBroker(detached.path))
    result = await asyncio.to_thread(worker.run, Chunk(items))
    assert result.batch.stage_keys.num_rows == 18  # 6 instances x 3 stages, not yet numbered
    commit_chunk(detached, result)
    assert _rows(detached) == _rows(local)
    assert all(r.attempt == 1 for o in result.outcomes for r in o.results.values())


def test_ray_run_matches_local_runner_and_second_run_computes_nothing(ray_session, pipeline):
    make_store, overrides = pipeline
    config = load_config(None, overrides)
    local = make_store("local")
    local_outcomes, _ = asyncio.run(run_config(local, config, live=False))
    store = make_store("ray")
    outcomes = run_with_ray(store, config, workers=2, chunk_size=2, run_id="first", quiet=True)
    assert [o.instance_id for o in outcomes] == [o.instance_id for o in local_outcomes]
    assert [o.selection for o in outcomes] == [o.selection for o in local_outcomes]
    assert _rows(store) == _rows(local)
    # per stage/config/instance exactly one attempt; every content stored once
    dupes = store.query("SELECT stage, config_hash, instance_id FROM stage_runs "
                        "GROUP BY ALL HAVING count(*) > 1").num_rows
    assert dupes == 0
    calls_before = store.query("SELECT count(*) AS n FROM sequences").to_pylist()[0]["n"]
    # calls: the localizer's 6 plus the generator's 3 samples once (its prompt is the same for
    # every instance): one call cache for the run, across both workers, as locally
    assert _fresh_calls(store, "first") == 6 + 3

    again = run_with_ray(store, config, workers=2, run_id="second", quiet=True)
    assert all(r.from_cache for o in again for r in o.results.values())
    assert [o.selection for o in again] == [o.selection for o in outcomes]
    assert store.query("SELECT count(*) AS n FROM sequences").to_pylist()[0]["n"] == calls_before
    assert store.query("SELECT count(*) AS n FROM stage_runs").to_pylist()[0]["n"] == 18
    runs = store.query("SELECT run_id, status FROM runs ORDER BY started_at").to_pylist()
    assert runs == [{"run_id": "first", "status": "finished"},
                    {"run_id": "second", "status": "finished"}]


def test_ray_resume_reuses_cached_stages_and_stored_calls(ray_session, pipeline):
    make_store, overrides = pipeline
    store = make_store("ray")
    asyncio.run(run_config(store, load_config(None, overrides), live=False))
    changed = load_config(None, overrides + ["generate.samples=2"])
    outcomes = run_with_ray(store, changed, workers=2, run_id="changed", quiet=True)
    assert all(o.results["localize"].from_cache for o in outcomes)
    assert all(not o.results["generate"].from_cache and o.results["generate"].attempt == 1
               for o in outcomes)
    # the 2 samples were made before for these instances: the driver hands them to the
    # workers, so no call is repeated (as the local runner's call cache does)
    assert _fresh_calls(store, "changed") == 0
    assert [o.selection.patch for o in outcomes] == [DIFF] * 6


def test_a_ray_run_over_no_matching_instances_is_refused_before_it_is_registered(pipeline):
    pytest.importorskip("ray", reason="ray is an optional extra (pip install swepipe[ray])")
    make_store, overrides = pipeline
    store = make_store("empty")
    config = load_config(None, [*overrides, 'instances=["demo__pkg-9"]'])
    with pytest.raises(InputError, match="dataset 'mini' has no matching instances"):
        run_with_ray(store, config, workers=1, quiet=True)
    assert store.query("SELECT count(*) AS n FROM runs").to_pylist() == [{"n": 0}]


def test_a_bundled_script_name_stays_a_name_and_a_script_file_becomes_absolute(tmp_path,
                                                                               monkeypatch):
    monkeypatch.chdir(tmp_path)
    named = _absolute_paths(load_config("agentless"))
    assert named.model.script == "minibench"  # resolved by name on the worker, as locally
    (tmp_path / "rules.yaml").write_text("rules: []\n")
    filed = _absolute_paths(load_config("agentless", ["model.script=rules.yaml"]))
    assert filed.model.script == str(tmp_path / "rules.yaml")
