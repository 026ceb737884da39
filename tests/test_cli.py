import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

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
    assert json.loads(out.stdout) == {"n": 300}


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
