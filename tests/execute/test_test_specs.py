"""Per-repository test commands: every Lite repository and version has one, as in the harness."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from swepipe.errors import InputError
from swepipe.execute import log_parsers
from swepipe.execute.test_specs import (
    END_TEST_OUTPUT, START_TEST_OUTPUT, command_for, directives, eval_script, parser_for,
    spec_for,
)

TEST_PATCH = ("diff --git a/tests/forms_tests/tests/test_formsets.py "
              "b/tests/forms_tests/tests/test_formsets.py\n--- a/x\n+++ b/x\n"
              "diff --git a/tests/fixtures/data.json b/tests/fixtures/data.json\n")


@pytest.mark.parametrize("split", ["test", "dev"])
def test_every_lite_repository_version_has_a_spec_and_parser(shared_data: Path, split: str):
    rows = [json.loads(line) for line in
            (shared_data / "swe-bench-lite" / f"{split}.jsonl").read_text().splitlines()]
    pairs = {(r["repo"], r["version"]) for r in rows}
    assert len({repo for repo, _ in pairs}) == (12 if split == "test" else 6)
    for repo, version in pairs:
        spec = spec_for(repo, version)
        assert spec.parser in log_parsers.PARSERS and spec.test_cmd


def test_django_directives_are_module_labels_without_non_test_files():
    assert directives("django/django", TEST_PATCH) == ["forms_tests.tests.test_formsets"]
    assert command_for(spec_for("django/django", "4.0"), TEST_PATCH) == (
        "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1 "
        "forms_tests.tests.test_formsets")
    assert command_for(spec_for("django/django", "1.9"), TEST_PATCH).startswith(
        "./tests/runtests.py --verbosity 2 forms_tests")


def test_other_repositories_get_their_runner_and_the_test_files():
    patch = "diff --git a/sympy/core/tests/test_x.py b/sympy/core/tests/test_x.py\n"
    assert command_for(spec_for("sympy/sympy", "1.8"), patch).endswith(
        "bin/test -C --verbose sympy/core/tests/test_x.py")
    assert spec_for("sphinx-doc/sphinx", "3.5").test_cmd == "tox --current-env -epy39 -v --"
    assert spec_for("astropy/astropy", "1.3").test_cmd.startswith("pytest -rA -vv")
    assert spec_for("astropy/astropy", "4.3").test_cmd == "pytest -rA"
    assert spec_for("mwaskom/seaborn", "0.12").test_cmd == "pytest --no-header -rA"
    assert parser_for("pylint-dev/pylint") == "pytest_options"
    assert spec_for("django/django", "3.0").eval_commands[-1] == "export LC_ALL=en_US.UTF-8"


def test_unknown_repository_or_version_is_a_clear_error():
    with pytest.raises(InputError, match="repository 'acme/tool'"):
        spec_for("acme/tool", "1.0")
    with pytest.raises(InputError, match=r"django/django version '0\.1' \(known: .*4\.0"):
        spec_for("django/django", "0.1")
    with pytest.raises(InputError, match="log parser for repository"):
        parser_for("acme/tool")


def test_eval_script_is_valid_bash_with_markers_around_the_test_command():
    script = eval_script(spec_for("psf/requests", "2.0"), "abc123",
                         "diff --git a/t.py b/t.py\n+x\n")
    assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0
    start, end = script.index(START_TEST_OUTPUT), script.index(END_TEST_OUTPUT)
    assert "pytest -rA t.py" in script[start:end]
    assert script.count("git checkout abc123 t.py") == 2  # before the test patch, and after
    assert "python -m pip install ." in script
    assert "pip install" not in eval_script(spec_for("psf/requests", "2.0"), "abc123", "",
                                           reinstall=False)
