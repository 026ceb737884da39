"""How SWE-bench runs an instance's tests, per repository and version, as the official harness does.

`spec_for(repo, version)` gives a `TestSpec`: the test command (`test_cmd`, the test directives
are appended), the log parser that reads its output (`swepipe.execute.log_parsers`), the commands
the harness's eval script runs before the tests (`eval_commands`: locale exports for some Django
versions), and the re-install it runs first (`install`). `command_for(spec, test_patch)` is
the full command line; `eval_script(spec, base_commit, test_patch)` the whole bash script in
the shape of the harness's `eval.sh` (conda env `testbed` in `/testbed`, test files reset, test
patch applied, output between the `>>>>> Start Test Output` / `>>>>> End Test Output` markers,
the exit code after them), so its output grades with `swepipe.execute.grading.grade_test_output`
like an imported harness log.

The table covers every repository and version of SWE-bench (Lite and full, test and dev) as the
`swebench` package's `MAP_REPO_VERSION_TO_SPECS` (<= 4.x; 5.x ships the scripts in the dataset
instead) defines them: pytest as `pytest -rA` (seaborn `--no-header`, astropy < 3 `-vv` classic
output), Django's `tests/runtests.py` (1.9 without `--settings`/`--parallel`), sympy's `bin/test`,
sphinx through `tox --current-env -epy39`.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from pydantic import BaseModel, ConfigDict

from swepipe.errors import InputError

PYTEST = "pytest -rA"
PYTEST_NO_HEADER = "pytest --no-header -rA"
ASTROPY_OLD = "pytest -rA -vv -o console_output_style=classic --tb=no"
DJANGO = "./tests/runtests.py --verbosity 2 --settings=test_sqlite --parallel 1"
DJANGO_1_9 = "./tests/runtests.py --verbosity 2"
SYMPY = "PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose"
SPHINX = "tox --current-env -epy39 -v --"

_DJANGO_LOCALE_OLD = ("export LANG=en_US.UTF-8", "export LC_ALL=en_US.UTF-8",
                      "export PYTHONIOENCODING=utf8", "export LANGUAGE=en_US:en")
_DJANGO_LOCALE_3 = ("sed -i '/en_US.UTF-8/s/^# //g' /etc/locale.gen && locale-gen",
                    "export LANG=en_US.UTF-8", "export LANGUAGE=en_US:en",
                    "export LC_ALL=en_US.UTF-8")
PIP_E = "python -m pip install -e ."

# The files of a test patch that are not tests (the harness drops them from the directives;
# "csv" without a dot is the harness's own spelling and matches any name ending so).
NON_TEST_EXTS = (".json", ".png", "csv", ".txt", ".md", ".jpg", ".jpeg", ".pkl", ".yml",
                 ".yaml", ".toml")

START_TEST_OUTPUT = ">>>>> Start Test Output"
END_TEST_OUTPUT = ">>>>> End Test Output"
TEST_EXIT_CODE = ">>>>> Test Exit Code"


def _v(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# repo -> parser, then (versions, fields) groups; later groups override earlier ones.
_Groups = list[tuple[tuple[str, ...], dict[str, Any]]]
_TABLE: dict[str, tuple[str, _Groups, dict[str, Any]]] = {
    "astropy/astropy": ("pytest_v2", [
        (_v("3.0 3.1 3.2 4.1 4.2 4.3 5.0 5.1 5.2 v5.3"), {"test_cmd": PYTEST}),
        (_v("0.1 0.2 0.3 0.4 1.1 1.2 1.3"), {"test_cmd": ASTROPY_OLD}),
    ], {"install": "python -m pip install -e .[test] --verbose"}),
    "django/django": ("django", [
        (_v("1.7 1.8 1.9 1.10 1.11 2.0 2.1 2.2"),
         {"install": "python setup.py install", "eval_commands": _DJANGO_LOCALE_OLD}),
        (_v("1.4 1.5 1.6"), {"install": "python setup.py install"}),
        (_v("3.0 3.1 3.2"), {"eval_commands": _DJANGO_LOCALE_3}),
        (_v("4.0 4.1 4.2 5.0 5.1 5.2"), {}),
        (_v("1.9"), {"test_cmd": DJANGO_1_9}),
    ], {"test_cmd": DJANGO, "install": PIP_E}),
    "marshmallow-code/marshmallow": ("pytest", [
        (_v("2.18 2.19 2.20 3.0 3.1 3.2 3.4 3.8 3.9 3.10 3.11 3.12 3.13 3.15 3.16 3.19"), {}),
    ], {"install": "python -m pip install -e '.[dev]'"}),
    "matplotlib/matplotlib": ("matplotlib", [
        (_v("3.0 3.1 3.2 3.3 3.4 3.5 3.6 3.7"), {}),
        (_v("3.8 3.9"), {"install": 'python -m pip install --no-build-isolation -e ".[dev]"'}),
        (_v("1.0 1.1 1.2 1.3 1.4 1.5 2.0 2.1 2.2"),
         {"install": "python setup.py build; python setup.py install"}),
    ], {"install": PIP_E}),
    "mwaskom/seaborn": ("seaborn", [
        (_v("0.11"), {}),
        (_v("0.12 0.13 0.14"), {"install": "python -m pip install -e .[dev]"}),
    ], {"test_cmd": PYTEST_NO_HEADER, "install": PIP_E}),
    "pallets/flask": ("pytest", [(_v("2.0 2.1 2.2 2.3 3.0 3.1"), {})], {"install": PIP_E}),
    "psf/requests": ("pytest_options", [
        (_v("0.7 0.8 0.9 0.11 0.13 0.14 1.1 1.2 2.0 2.2 2.3 2.4 2.5 2.7 2.8 2.9 2.10 2.11 "
            "2.12 2.17 2.18 2.19 2.22 2.25 2.26 2.27 2.31 3.0"), {}),
    ], {"install": "python -m pip install ."}),
    "pvlib/pvlib-python": ("pytest", [(_v("0.1 0.2 0.3 0.4 0.5 0.6 0.7 0.8 0.9"), {})],
                           {"install": "python -m pip install -e .[all]"}),
    "pydata/xarray": ("pytest", [
        (_v("0.12 0.18 0.19 0.20 2022.03 2022.06 2022.09 2023.07 2024.05"), {}),
    ], {"install": PIP_E}),
    "pydicom/pydicom": ("pytest_options", [
        (_v("1.0 1.1 1.2 1.3 1.4 2.0 2.1 2.2 2.3 2.4 3.0"), {}),
    ], {"install": PIP_E}),
    "pylint-dev/astroid": ("pytest", [
        (_v("2.5 2.6 2.7 2.8 2.9 2.10 2.12 2.13 2.14 2.15 2.16 3.0"), {}),
    ], {"install": PIP_E}),
    "pylint-dev/pylint": ("pytest_options", [
        (_v("2.8 2.9 2.10 2.11 2.13 2.14 2.15 2.16 2.17 3.0 3.1 3.2 3.3 4.0"), {}),
    ], {"install": PIP_E}),
    "pytest-dev/pytest": ("pytest", [
        (_v("4.4 4.5 4.6 5.0 5.1 5.2 5.3 5.4 6.0 6.2 6.3 7.0 7.1 7.2 7.4 8.0 8.1 8.2 8.3 8.4"),
         {}),
    ], {"install": PIP_E}),
    "pyvista/pyvista": ("pytest", [
        (tuple(f"0.{n}" for n in range(20, 44)), {}),
    ], {"install": PIP_E}),
    "scikit-learn/scikit-learn": ("pytest_v2", [
        (_v("0.20 0.21 0.22 1.3 1.4 1.5 1.6"), {}),
    ], {"install": "python -m pip install -v --no-use-pep517 --no-build-isolation -e ."}),
    "sphinx-doc/sphinx": ("pytest_v2", [
        (_v("1.5 1.6 1.7 1.8 2.0 2.1 2.2 2.3 2.4 3.0 3.1 3.2 3.3 3.4 3.5 4.0 4.1 4.2 4.3 4.4 "
            "4.5 5.0 5.1 5.2 5.3 6.0 6.2 7.0 7.1 7.2 7.3 7.4 8.0 8.1"), {}),
    ], {"test_cmd": SPHINX, "install": "python -m pip install -e .[test]"}),
    "sqlfluff/sqlfluff": ("pytest", [
        (_v("0.4 0.5 0.6 0.8 0.9 0.10 0.11 0.12 0.13 1.0 1.1 1.2 1.3 1.4 2.0 2.1 2.2"), {}),
    ], {"install": PIP_E}),
    "sympy/sympy": ("sympy", [
        (_v("0.7 1.0 1.1 1.2 1.4 1.5 1.6 1.7 1.8 1.9 1.10 1.11 1.12 1.13 1.14"), {}),
    ], {"test_cmd": SYMPY, "install": PIP_E}),
}


class TestSpec(BaseModel):
    """How the harness runs one repository version's tests."""

    model_config = ConfigDict(frozen=True)
    __test__ = False  # not a pytest class

    repo: str
    """`owner/name` as in the dataset."""
    version: str
    """The dataset's `version` field."""
    parser: str
    """Name of the log parser in `swepipe.execute.log_parsers.PARSERS`."""
    test_cmd: str = PYTEST
    """Shell command the test directives are appended to."""
    install: str | None = None
    """Re-install the harness's eval script runs before the tests (the image has it done)."""
    eval_commands: tuple[str, ...] = ()
    """Shell lines run before the tests (environment set-up)."""


def _build() -> dict[tuple[str, str], TestSpec]:
    specs: dict[tuple[str, str], TestSpec] = {}
    for repo, (parser, groups, defaults) in _TABLE.items():
        for versions, fields in groups:
            for version in versions:
                old = specs.get((repo, version))
                base = old.model_dump() if old else {"repo": repo, "version": version,
                                                     "parser": parser, **defaults}
                specs[(repo, version)] = TestSpec(**{**base, **fields})
    return specs


SPECS = _build()


def spec_for(repo: str, version: str | None) -> TestSpec:
    """The spec of `repo` at `version`; an `InputError` names what is unknown."""
    if repo not in _TABLE:
        raise InputError(f"no SWE-bench test spec for repository {repo!r}", field="repo")
    spec = SPECS.get((repo, str(version)))
    if spec is None:
        known = sorted(v for r, v in SPECS if r == repo)
        raise InputError(f"no SWE-bench test spec for {repo} version {version!r} "
                         f"(known: {', '.join(known)})", field="version")
    return spec


def parser_for(repo: str) -> str:
    """The log parser of a repository (it does not depend on the version)."""
    if repo not in _TABLE:
        raise InputError(f"no SWE-bench log parser for repository {repo!r}", field="repo")
    return _TABLE[repo][0]


_DIFF_TARGET = re.compile(r"diff --git a/.* b/(.*)")


def directives(repo: str, test_patch: str) -> list[str]:
    """What the harness appends to the test command: the files the test patch touches (minus
    non-test files); for Django the module labels (`tests/a/b.py` -> `a.b`)."""
    found = [d for d in _DIFF_TARGET.findall(test_patch) if not d.endswith(NON_TEST_EXTS)]
    if repo != "django/django":
        return found
    labels = []
    for d in found:
        d = d.removesuffix(".py")
        labels.append(d.removeprefix("tests/").replace("/", "."))
    return labels


def command_for(spec: TestSpec, test_patch: str) -> str:
    """The full test command line the harness runs for an instance (`spec`: its `spec_for`)."""
    return " ".join([spec.test_cmd, *directives(spec.repo, test_patch)])


def _patched_files(test_patch: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"diff --git a/(.*?) b/", test_patch)))


def eval_script(spec: TestSpec, base_commit: str, test_patch: str, *,
                repo_dir: str = "/testbed", env_name: str = "testbed",
                reinstall: bool = True) -> str:
    """The bash script the harness runs in an instance image (see the module docstring;
    `spec`: the instance's `spec_for`)."""
    files = " ".join(shlex.quote(f) for f in _patched_files(test_patch))
    reset = f"git checkout {base_commit} {files}".rstrip()
    delimiter = "EOF_114329324912"
    lines = ["#!/bin/bash", "set -uxo pipefail", "source /opt/miniconda3/bin/activate",
             f"conda activate {env_name}", f"cd {repo_dir}", *spec.eval_commands,
             f"git config --global --add safe.directory {repo_dir}"]
    if reinstall and spec.install:
        lines.append(spec.install)
    lines += [reset, f"git apply -v - <<'{delimiter}'\n{test_patch}\n{delimiter}",
              f": '{START_TEST_OUTPUT}'", command_for(spec, test_patch),
              "SWEBENCH_TEST_EXIT_CODE=$?", f": '{END_TEST_OUTPUT}'",
              f'echo "{TEST_EXIT_CODE}: $SWEBENCH_TEST_EXIT_CODE"', reset]
    return "\n".join(lines) + "\n"
