"""The README's main command, as a user runs it: a fresh folder, no network, the scripted model."""

import os

from swepipe.cli import main


def test_demo_runs_both_presets_and_a_second_run_computes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SWEPIPE_STORE", raising=False)
    assert main(["demo"]) == 0
    first = capsys.readouterr().out
    assert "SCRIPTED" in first and "preset agentless" in first and "preset codemonkeys" in first
    assert os.path.exists(tmp_path / "swepipe.duckdb")
    # what to type to re-run a preset: the clones the demo built are named
    clones = tmp_path.resolve() / ".swepipe-cache" / "repos"
    assert f"swepipe run agentless repos_dir={clones}" in first
    assert main(["sql", "SELECT count(DISTINCT config_hash) AS n FROM selections",
                 "--format", "csv"]) == 0
    assert capsys.readouterr().out.split() == ['"n"', "2"]
    assert main(["sql", "SELECT count(*) > 0 AS ok FROM rewards WHERE metric = 'resolved'",
                 "--format", "csv"]) == 0
    assert capsys.readouterr().out.split() == ['"ok"', "true"]
    assert main(["demo"]) == 0
    second = capsys.readouterr()
    assert second.err.count("model calls 0 (+0 from cache)") == 2  # the progress tables
    assert "0 new candidates run" in second.out
