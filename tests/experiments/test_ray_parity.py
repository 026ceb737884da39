"""Local vs Ray parity: both presets and the README's `mix` config on the bundled mini-benchmark,
each from an empty store, run locally and with `--executor ray` on 2 workers, must leave equal
result tables (done stage results, localizations, patches, test runs, selections, rewards) and
make the same number of model calls. The Ray cluster is the package's (conftest.py).
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest

from swepipe.datasets.ingest import ingest_instances
from swepipe.experiments.commands import run_config
from swepipe.experiments.config import expand_hypers, load_config
from swepipe.experiments.ray_executor import run_with_ray
from swepipe.minibench import build_minibench
from swepipe.rewards.compute import compute_rewards
from swepipe.store import Store
from swepipe.store.results import result_tables

README = Path(__file__).resolve().parents[2] / "README.md"


def readme_mix(folder: Path) -> Path:
    """The README's `mix` config, written to a file as the README shows it."""
    block = re.search(r'```toml\n(name = "mix"\n.*?)```', README.read_text(), re.S)
    assert block, "README.md has no ```toml block starting with name = \"mix\""
    path = folder / "mix.toml"
    path.write_text(block.group(1))
    return path


# config -> overrides that put it on the mini-benchmark with the bundled scripted model
CONFIGS = {
    "agentless": [],
    "codemonkeys": [],
    "mix": ["dataset=minibench", "model.script=minibench", "model.endpoint=null"],
}


def _run_everything(folder: Path, config_arg: str, extra: list[str], executor: str,
                    ) -> dict[str, list[tuple]]:
    """A fresh store, every variant of the config on `executor`, rewards; its result tables."""
    folder.mkdir()
    store = Store(folder / "store.duckdb", lock_timeout_s=20)
    ingest_instances(store, build_minibench(folder / "repos"), "minibench", "test")
    config = load_config(config_arg, [f"repos_dir={folder / 'repos'}",
                                      f"cache_dir={folder / 'cache'}", *extra])
    for variant in expand_hypers(config):
        if executor == "ray":
            # chunks of 2: both workers busy, and one holds two instances at once
            outcomes = run_with_ray(store, variant, workers=2, chunk_size=2, quiet=True)
        else:
            outcomes, _ = asyncio.run(run_config(store, variant, live=False))
        assert [o.failed for o in outcomes] == [False] * 3, executor
    compute_rewards(store, repos_dir=folder / "repos")
    return result_tables(store)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_ray_with_two_workers_leaves_the_tables_a_local_run_leaves(ray_session, tmp_path, name):
    config_arg = str(readme_mix(tmp_path)) if name == "mix" else name
    local = _run_everything(tmp_path / "local", config_arg, CONFIGS[name], "local")
    ray = _run_everything(tmp_path / "ray", config_arg, CONFIGS[name], "ray")
    # (the mix's test_vote has no tests to run without generated ones: no test_runs rows)
    for table in ("stage_runs", "localizations", "patches", "selections", "rewards"):
        assert local[table], f"{name}: no {table} rows (nothing compared)"
    assert local["test_runs"] or name == "mix"
    assert {t: len(rows) for t, rows in ray.items()} == {t: len(r) for t, r in local.items()}
    for table in local:
        assert ray[table] == local[table], f"{name}: {table} differ"
    assert sum(n for *_, n in ray["model_calls"]) == sum(n for *_, n in local["model_calls"]) > 0
