"""A run against an endpoint whose URL holds credentials writes them nowhere: not in
`stage_runs.error_message`, `sequences.error`, `runs.settings`, the log, or an export."""

from __future__ import annotations

import logging

import pyarrow.parquet as pq
import pytest

from swepipe.datasets.ingest import ingest_instances
from swepipe.errors import InputError
from swepipe.experiments.commands import run_config
from swepipe.experiments.config import load_config
from swepipe.experiments.preflight import probe_endpoint
from swepipe.models import EndpointSettings, Script, ScriptedServer
from swepipe.models.scripted_rules import Rule, RuleError
from swepipe.store.exchange import export_store
from swepipe.types import Instance

from tests.experiments.pkg import DIFF, make_pkg_repo

PASSWORD, QUERY_KEY, TOKEN = "pw-5e3cr3t-1", "qk-5e3cr3t-2", "tk-5e3cr3t-3"


async def test_endpoint_credentials_are_redacted_in_store_logs_and_exports(store, tmp_path,
                                                                           caplog):
    caplog.set_level(logging.INFO)
    repos = tmp_path / "repos"
    commit = make_pkg_repo(repos)
    ingest_instances(store, [Instance(instance_id="demo__pkg-1", repo="demo/pkg",
                                      base_commit=commit, problem_statement="f returns 1",
                                      patch=DIFF)], "mini", "test")
    # the server refuses the call and echoes what it was given, as hosted APIs do
    script = Script(rules=[Rule(pattern="Which file", error=RuleError(
        status=401, message=f"api-key {QUERY_KEY} not valid for user:{PASSWORD}"))])
    with ScriptedServer(script) as srv:
        url = f"http://user:{PASSWORD}@{srv.host}:{srv.port}/v1?api-key={QUERY_KEY}"
        embed_url = f"http://{srv.host}:{srv.port}/v1?access_token={TOKEN}"
        config = load_config(None, [
            f"repos_dir={repos}", f"cache_dir={tmp_path / 'cache'}", "dataset=mini",
            "localize.component=tests.experiments.components:AskFileLocalizer",
            "generate.component=tests.experiments.components:SampleDiffGenerator",
            "select.component=tests.experiments.components:FirstSelector",
            f"model.endpoint={{base_url: '{url}', api_key_env: null, max_retries: 0}}",
            f"embedder={{name: e, dim: 4, endpoint: {{base_url: '{embed_url}'}}}}"])
        outcomes, _ = await run_config(store, config, live=False)
    assert [o.failed for o in outcomes] == [True]
    (failed,) = store.query("SELECT error_message FROM stage_runs WHERE status = 'failed'"
                            ).to_pylist()
    (call,) = store.query("SELECT error FROM sequences").to_pylist()
    (run,) = store.query("SELECT settings FROM runs").to_pylist()
    export_store(store, tmp_path / "export")
    exported = [str(pq.read_table(p).to_pylist()) for p in (tmp_path / "export").rglob("*.parquet")]
    for text in [failed["error_message"], call["error"], run["settings"], caplog.text, *exported]:
        for secret in (PASSWORD, QUERY_KEY, TOKEN):
            assert secret not in text
    # what is left is still worth reading: the call failed with the server's 401
    assert "HTTP 401" in failed["error_message"] and "HTTP 401" in call["error"]
    assert f"{srv.host}:{srv.port}/v1?access_token=[redacted]" in run["settings"]
    assert len(exported) > 5 and "localize demo__pkg-1 failed" in caplog.text


def test_endpoint_probe_keeps_the_query_and_names_the_url_redacted():
    with ScriptedServer(Script()) as srv:
        probe_endpoint("model.endpoint.base_url", EndpointSettings(
            base_url=f"{srv.base_url}?api-key={QUERY_KEY}", api_key_env=None))  # no 404
        port = srv.port
    with pytest.raises(InputError, match=r"cannot reach http://\[redacted\]@127.0.0.1:\d+/v1"
                                         r"\?api-key=\[redacted\]: ") as info:
        probe_endpoint("model.endpoint.base_url", EndpointSettings(
            base_url=f"http://user:{PASSWORD}@127.0.0.1:{port}/v1?api-key={QUERY_KEY}",
            api_key_env=None))
    assert PASSWORD not in str(info.value) and QUERY_KEY not in str(info.value)
