import json
import subprocess
import sys

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


def test_every_command_has_help_text():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    helps = {a.dest: a.help for a in sub._choices_actions}
    assert set(helps) == set(sub.choices)
    assert all(helps.values()), helps
