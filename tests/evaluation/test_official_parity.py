"""swepipe's grading against the official `swebench` package on generated outputs of every parser
(both graded, then compared: nothing here states an expected verdict), and the helper's errors."""

from __future__ import annotations

import random

import pytest

from swepipe.errors import ExecutionError
from swepipe.evaluation.official import ensure_swebench, official_grades
from swepipe.execute.grading import grade_test_output
from swepipe.execute.test_specs import END_TEST_OUTPUT, START_TEST_OUTPUT, parser_for

REPOS = {"pytest": "pytest-dev/pytest", "pytest_options": "psf/requests",
         "pytest_v2": "astropy/astropy", "matplotlib": "matplotlib/matplotlib",
         "seaborn": "mwaskom/seaborn", "sympy": "sympy/sympy", "django": "django/django"}
IDS = ["t.py::test_a", "t.py::test_b[x y]", "t.py::test_c[/tmp/data/f.txt]",
       "t.py::test_d[MouseButton.LEFT]", "t.py::test_e"]
STATUSES = ["PASSED", "FAILED", "SKIPPED", "ERROR", "XFAIL"]


def _line(parser: str, test_id: str, status: str, rng: random.Random) -> str:
    if parser == "sympy":
        name = test_id.split("::")[1].split("[")[0]
        return f"{name} " + {"PASSED": "ok", "FAILED": "F", "ERROR": "E"}.get(status, "f")
    if parser == "django":
        name = f"{test_id.split('::')[1].split('[')[0]} (app.tests.T)"
        word = {"PASSED": "ok", "FAILED": "FAIL", "ERROR": "ERROR",
                "SKIPPED": "skipped 'why'"}.get(status, "expected failure")
        return f"{name} ... {word}"
    colour = "\x1b[32m" if parser == "pytest_v2" and rng.random() < 0.5 else ""
    tail = " - AssertionError: x - y" if status == "FAILED" else ""
    return f"{colour}{status}{chr(27) + '[0m' if colour else ''} {test_id}{tail}"


def _case(parser: str, rng: random.Random) -> dict:
    outcomes = {t: rng.choice(STATUSES) for t in rng.sample(IDS, rng.randint(0, len(IDS)))}
    body = "\n".join(_line(parser, t, s, rng) for t, s in outcomes.items())
    if rng.random() < 0.2:
        body += "\nSKIPPED [3] t.py:10: unconditional skip"
    log = f"+ : '{START_TEST_OUTPUT}'\n{body}\n+ : '{END_TEST_OUTPUT}'\n"
    if rng.random() < 0.15:
        log += f">>>>> Test Exit Code: {rng.choice([0, 1, 2])}\n"
    if rng.random() < 0.05:
        log = ">>>>> Tests Timed Out\n" + log
    if parser in ("sympy", "django"):  # the dataset ids of these runners are bare names
        ids = [f"{t.split('::')[1].split('[')[0]}" + (" (app.tests.T)" if parser == "django"
                                                       else "") for t in IDS]
    else:
        ids = list(IDS) + ["t.py::test_b[x", "t.py::test_c[/f.txt]", "t.py::test_d[1]"]
    f2p = rng.sample(ids, rng.randint(0, 3))
    rest = [i for i in ids if i not in f2p]
    p2p = rng.sample(rest, rng.randint(0, min(3, len(rest))))
    return {"repo": REPOS[parser], "version": "", "log": log, "FAIL_TO_PASS": f2p,
            "PASS_TO_PASS": p2p}


def test_generated_outputs_of_every_parser_grade_as_the_official_package(swebench_dir):
    rng = random.Random(13)
    items = [{"key": f"{parser}-{n}", "instance_id": f"{parser}-{n}", **_case(parser, rng)}
             for parser in REPOS for n in range(250)]
    official = official_grades(items, swebench_dir)
    mine = {}
    for item in items:
        grade, _ = grade_test_output(item["log"], parser_for(item["repo"]),
                                     item["FAIL_TO_PASS"], item["PASS_TO_PASS"])
        mine[item["key"]] = bool(grade and grade.resolved)
    differing = [k for k in official if official[k] != mine[k]]
    assert differing == [] and len(official) == len(items)
    assert 0 < sum(mine.values()) < len(items)  # both verdicts occur


def test_official_grading_without_the_package_is_an_execution_error(tmp_path):
    with pytest.raises(ExecutionError, match="swebench is not on the path"):
        official_grades([{"key": "k"}], tmp_path)


def test_an_unreachable_index_is_an_execution_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(tmp_path))
    with pytest.raises(ExecutionError, match="pip could not install swebench"):
        ensure_swebench(tmp_path / "target")
    assert not (tmp_path / "target").exists() and list(tmp_path.iterdir()) == []
