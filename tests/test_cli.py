import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from swepipe.cli import build_parser, main


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "swepipe.cli", *args], capture_output=True,
                          text=True, cwd=cwd)


def test_ingest_status_sql_from_the_command_line(tmp_path, lite_path):
    store = str(tmp_path / "s.duckdb")
    done = run_cli("--store", store, "ingest", str(lite_path), "--dataset", "lite")
    assert done.returncode == 0, done.stderr
    assert "300 new" in done.stdout
    status = run_cli("status", "--store", store)
    assert "lite" in status.stdout and "300" in status.stdout
    out = run_cli("--store", store, "sql", "SELECT count(*) AS n FROM instances", "--format", "json")
    assert json.loads(out.stdout) == [{"n": 300}]


def test_errors_are_one_line_and_exit_non_zero(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instance_id": "x"\n')
    result = run_cli("--store", str(tmp_path / "s.duckdb"), "ingest", str(bad))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "bad.jsonl:1: invalid JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_sql_is_read_only(tmp_path, capsys):
    store = str(tmp_path / "s.duckdb")
    assert main(["--store", store, "export", str(tmp_path / "e")]) == 2  # no store yet
    from swepipe.store import Store
    Store(store).schema_version()
    assert main(["--store", store, "sql", "DELETE FROM instances"]) == 2
    assert "read-only" in capsys.readouterr().err.lower()


def _commands(parser, prefix=""):
    """(name, help) of every command and sub-command."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, child in action.choices.items():
                yield f"{prefix}{name}", helps.get(name)
                yield from _commands(child, f"{prefix}{name} ")


def test_every_command_has_help_text_and_is_in_the_readme():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    commands = dict(_commands(build_parser()))
    assert {"demo", "run", "ingest", "status", "sql", "rewards", "migrate agentless"} <= set(commands)
    assert [name for name, text in commands.items() if not text] == []
    missing = [name for name in commands
               if f"swepipe {name}" not in readme and not _grouped(name, readme)]
    assert missing == []


def _grouped(name, readme):
    # sub-commands written together on one line: `swepipe migrate agentless|codemonkeys PATH`
    head, _, tail = name.rpartition(" ")
    return bool(head) and re.search(rf"swepipe {re.escape(head)} [^\n]*\b{re.escape(tail)}\b",
                                    readme) is not None


HEAVY = ("scipy", "pyarrow", "polars", "duckdb", "matplotlib", "ray", "numpy", "aiohttp",
         "pydantic", "rich", "swepipe.rewards.report")


def test_building_the_parser_imports_no_heavy_module():
    # what `swepipe --help` and every `swepipe COMMAND --help` pay before doing anything
    code = ("import sys\nfrom swepipe.cli import build_parser\nbuild_parser()\n"
            f"print(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r} "
            f"or m in {HEAVY!r}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_option_has_help_text():
    parsers = [build_parser()]
    undocumented = []
    while parsers:
        parser = parsers.pop()
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                parsers.extend(action.choices.values())
            elif action.option_strings and action.help is None:
                undocumented.append(f"{parser.prog} {action.option_strings[0]}")
    assert undocumented == []


def _shown(capsys, *argv):
    """The configs `swepipe run ... --show` prints: (label, resolved JSON) each."""
    assert main(["run", *argv, "--show"]) == 0
    out, blocks = capsys.readouterr().out, []
    for block in out.split("== ")[1:]:
        label, _, rest = block.partition("\n")
        blocks.append((label, json.JSONDecoder().raw_decode(rest)[0]))
    return blocks


def test_overrides_are_accepted_anywhere_among_the_options(capsys):
    # the README's Quickstart: overrides after --limit
    ((_, shown),) = _shown(capsys, "agentless", "dataset=lite", "repos_dir=/data/repos",
                           "--limit", "20", "model.name=Qwen/Q", "--instances", "a__b-1", "a__b-2",
                           "generate.samples=2", "model.endpoint.base_url=http://gpu:8000/v1")
    settings = shown["settings"]
    assert (settings["dataset"], settings["limit"], settings["repos_dir"]) == ("lite", 20,
                                                                             "/data/repos")
    # `--instances A generate.samples=2` keeps the override out of the ids
    assert settings["instances"] == ["a__b-1", "a__b-2"]
    assert shown["stages"]["generate"]["hashed"]["params"]["samples"] == 2
    assert shown["stages"]["localize"]["hashed"]["params"]["model"]["name"] == "Qwen/Q"
    assert settings["model"]["endpoint"]["base_url"] == "http://gpu:8000/v1"


def test_run_refuses_what_is_neither_an_option_nor_an_override(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["run", "agentless", "--limit", "2", "stray", "--show"])
    assert exc.value.code == 2 and "unrecognized arguments: stray" in capsys.readouterr().err
    assert main(["run", "dataset=lite", "agentless", "--show"]) == 2
    assert "first argument is the config" in capsys.readouterr().err


def test_show_prints_every_field_each_hash_is_taken_over_and_labels_the_grid(capsys):
    from swepipe.hashing import config_hash

    blocks = _shown(capsys, "agentless", "hypers={generate.temperature: [0.4, 0.8]}")
    assert [label for label, _ in blocks] == ["config 1 of 2: generate.temperature=0.4",
                                              "config 2 of 2: generate.temperature=0.8"]
    for _, shown in blocks:
        for stage in shown["stages"].values():
            assert config_hash(**stage["hashed"]) == stage["hash"]  # nothing hashed is hidden
    params = blocks[0][1]["stages"]["localize"]["hashed"]["params"]
    assert params["num_samples"] == 2  # set by the preset ...
    assert len(params) > 3  # ... and the component's defaults besides
    assert blocks[0][1]["stages"]["generate"]["hashed"]["params"]["temperature"] == 0.4
    # nothing left out: every field of each component config is shown, hashed or not
    from swepipe.experiments.config import build_stages, expand_hypers, load_config

    variant = expand_hypers(load_config("agentless", ["hypers={generate.temperature: [0.4]}"]))[0]
    for stage, built in build_stages(variant).items():
        shown = blocks[0][1]["stages"][stage]
        assert set(built.config.model_dump()) == ({"component", "code_version"}
                                                  | set(shown["hashed"]["params"]) - {"model"}
                                                  | set(shown["not_hashed"]))


def _store_with_long_dataset_name(tmp_path):
    from swepipe.datasets.ingest import ingest_instances
    from swepipe.store import Store
    from swepipe.types import Instance

    store = Store(tmp_path / "s.duckdb")
    name = "a-dataset-name-long-enough-that-a-status-row-is-wider-than-eighty-columns"
    ingest_instances(store, [Instance(instance_id="o__r-1", repo="o/r", base_commit="abc",
                                      problem_statement="p")], name, "test")
    return store, name


def test_status_piped_is_not_cut_to_80_columns(tmp_path):
    store, name = _store_with_long_dataset_name(tmp_path)
    out = run_cli("--store", str(store.path), "status")  # stdout is a pipe here
    assert out.returncode == 0 and name in out.stdout and "…" not in out.stdout


def test_a_reader_that_goes_away_ends_the_command_quietly(tmp_path):
    store, _ = _store_with_long_dataset_name(tmp_path)
    read, write = os.pipe()
    os.close(read)  # like `| head` exiting before swepipe writes
    done = subprocess.run([sys.executable, "-m", "swepipe.cli", "--store", str(store.path),
                           "store", "info"], stdout=write, stderr=subprocess.PIPE, text=True)
    os.close(write)
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr
    assert done.returncode == 141


def test_sql_json_is_one_array_and_jsonl_one_object_per_line(tmp_path, capsys):
    store, name = _store_with_long_dataset_name(tmp_path)
    query = "SELECT instance_id, 1 AS n FROM instances UNION ALL SELECT 'x', 2"
    sql = ["--store", str(store.path), "sql", query + " ORDER BY n", "--format"]
    assert main([*sql, "json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"instance_id": "o__r-1", "n": 1},
                                                   {"instance_id": "x", "n": 2}]
    assert main([*sql, "jsonl"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["n"] for line in lines] == [1, 2]


def test_json_error_names_the_column_once(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"instance_id": "x\n')
    result = run_cli("--store", str(tmp_path / "s.duckdb"), "ingest", str(bad))
    assert result.returncode == 2
    assert "invalid JSON (Unterminated string starting at column 17)" in result.stderr
    assert "at at" not in result.stderr


def test_ingest_summary_counts_rows_added_to_a_new_dataset(tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"instance_id": "o__r-1", "repo": "o/r", "base_commit": "abc",
                                "problem_statement": "p", "patch": ""}) + "\n")
    store = str(tmp_path / "s.duckdb")
    first = run_cli("--store", store, "ingest", str(rows), "--dataset", "a")
    assert "into new dataset 'a', 1 added to it; instances: 1 new" in first.stdout, first.stderr
    # the same instance for a second dataset: stored once, but new to that dataset
    second = run_cli("--store", store, "ingest", str(rows), "--dataset", "b")
    assert "into new dataset 'b', 1 added to it; instances: 0 new" in second.stdout
    again = run_cli("--store", store, "ingest", str(rows), "--dataset", "b")
    assert "into dataset 'b', 0 added to it; instances: 0 new, 0 new revisions, 1 unchanged" in (
        again.stdout)


def test_evaluate_and_coverage_refuse_a_missing_repos_dir(tmp_path, capsys):
    store, _ = _store_with_long_dataset_name(tmp_path)
    for command in ("evaluate", "coverage"):
        assert main(["--store", str(store.path), command, "--repos-dir", "/missing"]) == 2
        assert "--repos-dir /missing is not a directory" in capsys.readouterr().err
