import pytest

from swepipe.datasets.ingest import ingest_instances
from swepipe.errors import InputError
from swepipe.experiments.commands import run_config
from swepipe.experiments.config import build_stages, expand_hypers, load_config
from swepipe.experiments.runner import select_instances

from tests.experiments.pkg import DIFF


async def test_pipeline_runs_end_to_end_and_resumes_without_calls(setup):
    store, overrides = setup
    config = load_config(None, overrides)
    outcomes, runner = await run_config(store, config, live=False)
    assert [o.selection.patch for o in outcomes] == [DIFF] * 4
    # one localization call per instance; the generator's prompts are the same for every
    # instance, so its 3 samples are paid once and the rest come from the call cache
    assert runner.token_totals()["calls"] == 4 + 3
    again, runner2 = await run_config(store, config, live=False)
    assert runner2.token_totals()["calls"] == 0
    assert all(r.from_cache for o in again for r in o.results.values())
    runs = store.query("SELECT status FROM runs ORDER BY started_at").to_pylist()
    assert runs == [{"status": "finished"}, {"status": "finished"}]


async def test_changing_the_generator_reruns_generation_and_selection_only(setup):
    store, overrides = setup
    await run_config(store, load_config(None, overrides), live=False)
    changed = load_config(None, overrides + ["generate.samples=2"])
    outcomes, runner = await run_config(store, changed, live=False)
    assert runner.counts["localize"].cached == 4
    assert runner.counts["generate"].done == 4 and runner.counts["select"].done == 4
    # 2 samples per instance: both answered from the call cache (same request, same sample index)
    assert runner.token_totals()["calls"] == 0


async def test_failed_stage_is_recorded_and_stops_that_instance_only(setup, tmp_path):
    store, overrides = setup
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - pattern: 'case 0'\n    reply: no/such/file.py\n"
                   "  - pattern: Which file\n    reply: pkg/mod.py\n"
                   "  - pattern: write a diff\n    reply: x\n")
    outcomes, _ = await run_config(store, load_config(None, overrides + [f"model.script={bad}"]),
                                   live=False)
    failed = [o.instance_id for o in outcomes if o.failed]
    assert failed == ["demo__pkg-0"]
    row = store.query("SELECT error_class, error_message FROM stage_runs WHERE status = 'failed'"
                      ).to_pylist()
    assert row[0]["error_class"] == "ValueError" and "does not exist" in row[0]["error_message"]


async def test_a_run_over_no_matching_instances_is_refused(setup):
    store, overrides = setup
    config = load_config(None, [*overrides, 'instances=["demo__pkg-9"]'])
    with pytest.raises(InputError, match="dataset 'mini' has no matching instances"):
        select_instances(store, config)
    with pytest.raises(InputError, match="dataset 'mini' has no matching instances"):
        await run_config(store, config, live=False)
    assert store.query("SELECT status FROM runs").to_pylist() == [{"status": "failed"}]
    assert len(select_instances(store, load_config(None, [*overrides, "limit=2"]))) == 2


def test_stage_hashes_chain_and_hypers_expand(setup):
    _, overrides = setup
    config = load_config(None, overrides + ["hypers={generate.samples: [1, 2]}"])
    variants = expand_hypers(config)
    assert [v.generate["samples"] for v in variants] == [1, 2]
    a, b = (build_stages(v) for v in variants)
    assert a["localize"].hash == b["localize"].hash
    assert a["generate"].hash != b["generate"].hash and a["select"].hash != b["select"].hash
    endpoint = build_stages(load_config(None, overrides + ["model.endpoint={base_url: 'http://x/v1'}"]))
    assert endpoint["localize"].hash == a["localize"].hash  # runtime settings are not identity
    other = build_stages(load_config(None, overrides + ["model.name=other"]))
    assert other["localize"].hash != a["localize"].hash
    assert other["select"].params == a["select"].params  # FirstSelector uses no model


async def test_experiment_protocol_runs_one_rollout_against_an_endpoint(setup, tmp_path):
    from swepipe.experiments.experiment import PipelineExperiment
    from swepipe.models import ScriptedServer
    from swepipe.models.scripted_rules import load_script
    from swepipe.protocols import Experiment

    store, overrides = setup
    config = load_config(None, overrides + ["model.weights_revision=step-7", "cache.generate=off"])
    experiment = PipelineExperiment(store, config)
    assert isinstance(experiment, Experiment) and len(experiment.hypers()) == 1
    script = load_script(config.model.script)
    with ScriptedServer(script) as server:
        selection = await experiment.run("demo__pkg-1", server.base_url)
        again = await experiment.run("demo__pkg-1", server.base_url)
    assert selection.patch == DIFF == again.patch
    rows = store.query("SELECT stage, count(*) AS n, bool_and(weights_revision = 'step-7') AS rev, "
                       "sum(from_cache::int) AS hits FROM sequences GROUP BY 1 ORDER BY 1").to_pylist()
    # generation has cache policy off: both rollouts called the model; localization was reused
    assert rows == [{"stage": "generate", "n": 6, "rev": True, "hits": 0},
                    {"stage": "localize", "n": 1, "rev": True, "hits": 0}]


async def test_cost_counts_a_run_s_calls_once_under_the_dataset_it_ran_over(setup):
    from swepipe.datasets.ingest import load_instances
    from swepipe.store.cost import PriceTable, cost_table

    store, overrides = setup
    ingest_instances(store, load_instances(store, "mini"), "other", "test")  # same instances
    await run_config(store, load_config(None, overrides), live=False)
    rows = cost_table(store, PriceTable()).to_pylist()
    assert {r["dataset"] for r in rows} == {"mini"}
    assert sum(r["calls"] for r in rows) == 4 + 3


async def test_pipeline_reads_plain_trees_from_trees_dir_without_any_clone(setup, tmp_path):
    store, overrides = setup
    for i in range(4):  # ready trees only: no clone is consulted for these instances
        write = tmp_path / "trees" / f"demo__pkg-{i}" / "pkg"
        write.mkdir(parents=True)
        (write / "mod.py").write_text("def f():\n    return 1\n")
    no_clones = [o for o in overrides if not o.startswith("repos_dir=")]
    config = load_config(None, no_clones + [f"trees_dir={tmp_path / 'trees'}"])
    outcomes, _ = await run_config(store, config, live=False)
    assert [o.selection.patch for o in outcomes] == [DIFF] * 4
    assert not (tmp_path / "cache" / "checkouts").exists()
