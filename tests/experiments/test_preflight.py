"""`swepipe run` checks what every stage needs before it starts (so a configuration mistake is
never stored as a failed result), probes the endpoint once, and explains failed results."""

import shutil
import socket
import time

import pytest

from swepipe.cli import main
from swepipe.models import ScriptedServer
from swepipe.models.scripted_rules import Script


def run(store, overrides, *extra):
    return main(["--store", str(store.path), "run", "pipeline.toml", *overrides, *extra])


@pytest.fixture
def pipeline(setup, tmp_path, monkeypatch):
    store, overrides = setup
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pipeline.toml").write_text('name = "t"\n')
    return store, overrides


def stage_rows(store):
    return store.query("SELECT count(*) AS n FROM stage_runs").to_pylist()[0]["n"]


def without(overrides, key):
    return [o for o in overrides if not o.startswith(f"{key}=")]


def test_a_missing_repos_dir_is_refused_before_any_result_is_stored(pipeline, capsys):
    store, overrides = pipeline
    assert run(store, without(overrides, "repos_dir")) == 2
    err = capsys.readouterr().err
    assert "repos_dir is not set" in err and "ctx.repo_dir" not in err
    assert err.count("\n") == 1 and stage_rows(store) == 0
    assert run(store, overrides) == 0  # fixed: it runs, nothing failed was cached


def test_ready_trees_in_trees_dir_need_no_repos_dir(pipeline, capsys, tmp_path):
    store, overrides = pipeline
    for i in range(4):
        pkg = tmp_path / "trees" / f"demo__pkg-{i}" / "pkg"
        pkg.mkdir(parents=True)
        (pkg / "mod.py").write_text("def f():\n    return 1\n")
    trees = [f"trees_dir={tmp_path / 'trees'}"]
    assert run(store, without(overrides, "repos_dir") + trees) == 0
    assert not (tmp_path / "cache" / "checkouts").exists()
    # an instance without a tree still needs the clones (checked before the cache is read)
    shutil.rmtree(tmp_path / "trees" / "demo__pkg-3")
    assert run(store, without(overrides, "repos_dir") + trees) == 2
    assert "repos_dir is not set" in capsys.readouterr().err


def test_repos_dir_without_the_clone_names_the_missing_repository(pipeline, capsys, tmp_path):
    store, overrides = pipeline
    (tmp_path / "empty").mkdir()
    assert run(store, [*without(overrides, "repos_dir"), f"repos_dir={tmp_path / 'empty'}"]) == 2
    assert "has no clone of demo__pkg (4 instances)" in capsys.readouterr().err
    assert run(store, [*without(overrides, "repos_dir"), "repos_dir=/missing"]) == 2
    assert "repos_dir /missing is not a directory" in capsys.readouterr().err
    assert stage_rows(store) == 0


def test_a_dataset_not_in_the_store_says_what_to_do(pipeline, capsys, tmp_path):
    store, overrides = pipeline
    assert run(store, [*without(overrides, "dataset"), "dataset=lite"]) == 2
    err = capsys.readouterr().err
    assert "unknown dataset 'lite' (known: mini); " in err
    assert "swepipe ingest FILE --dataset lite" in err
    # the bundled mini-benchmark has no file to ingest: the demo builds it
    assert run(store, [*without(overrides, "dataset"), "dataset=minibench"]) == 2
    assert "run `swepipe demo` once" in capsys.readouterr().err


def test_after_the_demo_a_missing_repos_dir_points_at_the_demo_clones(pipeline, capsys, tmp_path):
    from swepipe.datasets.ingest import ingest_instances, load_instances

    store, overrides = pipeline
    ingest_instances(store, load_instances(store, "mini"), "minibench", "test")
    (tmp_path / "cache" / "repos").mkdir(parents=True)  # where the demo builds them
    assert run(store, [*without(without(overrides, "repos_dir"), "dataset"),
                       "dataset=minibench"]) == 2
    assert f"add repos_dir={tmp_path / 'cache' / 'repos'}" in capsys.readouterr().err


def test_an_unreachable_endpoint_fails_at_once_naming_the_url_without_credentials(pipeline,
                                                                                  capsys):
    store, overrides = pipeline
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://user:hunter2@127.0.0.1:{port}/v1"
    start = time.monotonic()
    assert run(store, overrides, f"model.endpoint.base_url={url}") == 2
    assert time.monotonic() - start < 10
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "hunter2" not in err
    assert f"model.endpoint.base_url: cannot reach http://[redacted]@127.0.0.1:{port}/v1: " \
        "ConnectError" in err
    assert stage_rows(store) == 0


def test_an_endpoint_refusing_the_key_is_reported_and_a_good_one_runs(pipeline, capsys,
                                                                      monkeypatch, tmp_path):
    store, overrides = pipeline
    monkeypatch.setenv("SWEPIPE_API_KEY", "sk-wrong")
    with ScriptedServer(Script(api_key="sk-right", default="pkg/mod.py")) as srv:
        assert run(store, overrides, f"model.endpoint.base_url={srv.base_url}") == 2
        err = capsys.readouterr().err
        assert "refused the API key (HTTP 401); set it in $SWEPIPE_API_KEY" in err
        assert "sk-wrong" not in err
    with ScriptedServer(Script(default="pkg/mod.py")) as srv:
        # reachable: the run goes on (the generator's replies are no diff, it fails per result)
        run(store, [*without(overrides, "model.script"), "generate.component=oracle",
                    "hypers={generate.code_version: ['1', '2']}"],
            f"model.endpoint.base_url={srv.base_url}")
        assert srv.stats().get("models") == 1  # probed once for the two configs of the grid
    assert stage_rows(store) > 0


def test_failed_results_print_their_stored_error_and_the_retry_flag(pipeline, capsys, tmp_path):
    store, overrides = pipeline
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - pattern: 'case 0'\n    reply: no/such/file.py\n"
                   "  - pattern: Which file\n    reply: pkg/mod.py\n"
                   "  - pattern: write a diff\n    reply: x\n")
    broken = [*without(overrides, "model.script"), f"model.script={bad}"]
    assert run(store, broken) == 1
    err = capsys.readouterr().err
    assert ("failed: localize demo__pkg-0: ValueError: model named a file that does not exist: "
            "'no/such/file.py'") in err
    assert "--retry-failed" in err
    assert run(store, broken) == 1  # read back: the same error, said to be stored
    assert "failed: localize demo__pkg-0 (stored by an earlier run): ValueError" in (
        capsys.readouterr().err)


def test_an_endpoint_that_is_not_an_openai_root_is_refused(pipeline, capsys):
    store, overrides = pipeline
    with ScriptedServer(Script(default="pkg/mod.py")) as srv:
        root = srv.base_url.removesuffix("/v1")  # a common mistake: no /v1
        assert run(store, overrides, f"model.endpoint.base_url={root}") == 2
    err = capsys.readouterr().err
    assert (f"{root} answered GET /models with HTTP 404 (is it the OpenAI root, ending in /v1?)"
            in err)


def test_run_pipeline_shows_live_progress_on_a_terminal(setup, capsys, monkeypatch):
    # what the demo and `swepipe run` call: on a terminal the table is redrawn while it runs
    from swepipe.experiments.commands import run_pipeline
    from swepipe.experiments.config import load_config

    store, overrides = setup
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("TTY_INTERACTIVE", "1")
    assert run_pipeline(store, load_config(None, overrides)) == 0
    err = capsys.readouterr().err
    assert "\x1b[?25l" in err  # rich's live display hides the cursor while it redraws
    assert "model calls 7" in err


def test_an_endpoint_that_never_answers_fails_within_the_probe_bound(pipeline, capsys):
    # connects (the kernel accepts into the backlog) but no reply ever comes: one read timeout,
    # not every call's retries
    store, overrides = pipeline
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/v1"
        start = time.monotonic()
        assert run(store, overrides, f"model.endpoint.base_url={url}") == 2
        assert time.monotonic() - start < 10
    err = capsys.readouterr().err
    assert f"model.endpoint.base_url: cannot reach {url}: ReadTimeout" in err
    assert stage_rows(store) == 0


def script_of(overrides):
    from swepipe.models.scripted_rules import load_script

    return load_script(next(o for o in overrides if o.startswith("model.script="))
                       .split("=", 1)[1])


def test_a_finished_run_resumes_with_its_endpoint_offline(pipeline, capsys):
    # every result is in the store: no stage calls the model, so the probe is not made; a run
    # that has anything to compute still stops at it
    store, overrides = pipeline
    with ScriptedServer(script_of(overrides)) as srv:
        url = srv.base_url
        assert run(store, overrides, f"model.endpoint.base_url={url}", "--limit", "2") == 0
        assert srv.stats().get("models") == 1
    rows = stage_rows(store)
    assert run(store, overrides, f"model.endpoint.base_url={url}", "--limit", "2") == 0
    assert run(store, overrides, f"model.endpoint.base_url={url}", "--limit", "2",
               "--retry-failed") == 0  # nothing failed: still nothing to compute
    assert stage_rows(store) == rows
    capsys.readouterr()
    # recomputing a stage that calls no model (the selector) still needs no endpoint
    assert run(store, overrides, f"model.endpoint.base_url={url}", "--limit", "2",
               "cache.select=recompute") == 0
    rows = stage_rows(store)
    capsys.readouterr()
    for needs_the_model in (["--limit", "3"], ["--limit", "2", "cache.localize=recompute"]):
        assert run(store, overrides, f"model.endpoint.base_url={url}", *needs_the_model) == 2
        assert "model.endpoint.base_url: cannot reach" in capsys.readouterr().err
    assert stage_rows(store) == rows


def test_stored_failures_are_read_back_offline_and_retrying_them_probes(pipeline, capsys,
                                                                         tmp_path):
    from swepipe.models.scripted_rules import Script

    store, overrides = pipeline
    # localize fails for case 0 (a file that does not exist), the rest run through
    rules = [{"pattern": "case 0", "reply": "no/such/file.py"}, *script_of(overrides)
             .model_dump()["rules"]]
    with ScriptedServer(Script.model_validate({"rules": rules})) as srv:
        url = srv.base_url
        assert run(store, overrides, f"model.endpoint.base_url={url}") == 1
    capsys.readouterr()
    assert run(store, overrides, f"model.endpoint.base_url={url}") == 1  # read back, offline
    assert "failed: localize demo__pkg-0 (stored by an earlier run)" in capsys.readouterr().err
    assert run(store, overrides, f"model.endpoint.base_url={url}", "--retry-failed") == 2
    assert "model.endpoint.base_url: cannot reach" in capsys.readouterr().err


def test_instance_ids_not_in_the_dataset_are_named_not_silently_dropped(pipeline, capsys):
    store, overrides = pipeline
    assert run(store, overrides, "--instances", "demo__pkg-1", "demo__pkg-9", "demo__pkg-8") == 2
    err = capsys.readouterr().err
    assert "dataset 'mini' holds 2 of the 3 instances asked for: demo__pkg-8, demo__pkg-9 " \
        "(field 'instances')" in err and err.count("\n") == 1
    assert run(store, overrides, "--instances", "nope") == 2
    assert "holds none of the instances ['nope']" in capsys.readouterr().err
    assert stage_rows(store) == 0
    assert run(store, overrides, "--instances", "demo__pkg-1") == 0


def test_docker_execution_without_the_harness_images_is_refused_before_anything_runs(pipeline,
                                                                                     capsys):
    # the mini instances have no `sweb.eval.x86_64.<id>` image (and there may be no daemon):
    # without the check, a selector running gold tests would fail or fall back per instance
    store, overrides = pipeline
    assert run(store, [*overrides, "execution=docker"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("swepipe: error: execution=docker: ") and err.count("\n") == 1
    assert "no harness image for 4 of 4 instances (demo__pkg-" in err or "no Docker daemon" in err
    assert stage_rows(store) == 0
    assert run(store, overrides) == 0  # the local sandbox needs no image


def test_each_harness_image_is_found_once_for_the_grid_and_its_runs(pipeline, tmp_path):
    # a docker CLI that logs its calls and finds every image
    store, overrides = pipeline
    log = tmp_path / "docker.log"
    fake = tmp_path / "fake-docker"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {log}\necho 27.0\n')
    fake.chmod(0o755)
    assert run(store, [*without(overrides, "select.component"),
                       "select.component=tests.experiments.components:ImageSelector",
                       "execution=docker", f"docker.docker={fake}",
                       "hypers={generate.code_version: ['1', '2']}"]) == 0
    inspected = [line for line in log.read_text().splitlines() if line.startswith("image ")]
    assert sorted(inspected) == [f"image inspect --format {{{{.Id}}}} "
                                 f"sweb.eval.x86_64.demo__pkg-{i}:latest" for i in range(4)]
    # the runs' executors hold the images the checks found
    rows = store.query("SELECT config_hash, instance_id, rationale FROM selections").to_pylist()
    assert len(rows) == 8  # 2 configs x 4 instances
    assert {(r["instance_id"], r["rationale"]) for r in rows} == {
        (f"demo__pkg-{i}", f"image: sweb.eval.x86_64.demo__pkg-{i}:latest") for i in range(4)}
