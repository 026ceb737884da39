"""The official log parsers' rules, quirks included, and the grading rules on top of them."""

from __future__ import annotations

from swepipe.execute.grading import grade, grade_test_output, read_test_output
from swepipe.execute.log_parsers import parse
from swepipe.execute.test_specs import END_TEST_OUTPUT, START_TEST_OUTPUT

PYTEST = """
tests/t.py::test_a PASSED [ 50%]
PASSED tests/t.py::test_a
FAILED tests/t.py::test_b - AssertionError: x
SKIPPED [2] tests/t.py:9: needs numpy
SKIPPED tests/t.py::test_c
XFAIL tests/t.py::test_d - known
PASSED tests/t.py::test_p[a b-1]
PASSED tests/t.py::test_q[/abs/path/to/file.txt]
PASSED tests/t.py::test_m[MouseButton.LEFT]
"""


def test_pytest_reads_summary_words_and_cuts_ids_at_a_space():
    found = parse("pytest", PYTEST)
    assert found["tests/t.py::test_a"] == "PASSED"
    assert found["tests/t.py::test_b"] == "FAILED"
    assert found["tests/t.py::test_c"] == "SKIPPED" and "[2]" not in found
    assert found["tests/t.py::test_d"] == "XFAIL"
    assert "tests/t.py::test_p[a" in found  # as the dataset spells it
    assert "tests/t.py::test_q[/abs/path/to/file.txt]" in found


def test_parser_variants_apply_their_repository_quirks():
    assert "tests/t.py::test_q[/file.txt]" in parse("pytest_options", PYTEST)
    assert "tests/t.py::test_m[1]" in parse("matplotlib", PYTEST)
    v2 = parse("pytest_v2", "\x1b[32mPASSED\x1b[0m tests/t.py::test_p[a b-1]\n"
                            "tests/t.py::test_old FAILED\n")
    assert v2 == {"tests/t.py::test_p[a b-1]": "PASSED", "tests/t.py::test_old": "FAILED"}
    assert parse("seaborn", "tests/t.py::test_s PASSED [ 10%]\nFAILED tests/t.py::test_f\n") == {
        "tests/t.py::test_s": "PASSED", "tests/t.py::test_f": "FAILED"}


def test_django_runner_output_including_results_pushed_to_the_next_line():
    log = ("test_one (app.tests.A) ... ok\n"
           "test_two (app.tests.A) ... FAIL\n"
           "test_three (app.tests.A) ... skipped 'no db'\n"
           "test_four (app.tests.A) ... some printed noise\n"
           "ok\n"
           "A docstring test name ... ERROR\n"
           "ERROR: test_five (app.tests.A)\n")
    assert parse("django", log) == {
        "test_one (app.tests.A)": "PASSED", "test_two (app.tests.A)": "FAILED",
        "test_three (app.tests.A)": "SKIPPED", "test_four (app.tests.A)": "PASSED",
        "A docstring test name": "ERROR", "test_five": "ERROR"}


def test_sympy_bin_test_output():
    log = ("sympy/core/tests/test_x.py[3]\ntest_a ok\ntest_b F\ntest_c E\ntest_d f\n"
           "_____ sympy/core/tests/test_x.py:test_b _____\n")
    assert parse("sympy", log) == {"test_a": "PASSED", "test_b": "FAILED", "test_c": "ERROR",
                                   "sympy/core/tests/test_x.py:test_b": "FAILED"}


def test_status_rules_differ_between_fail_to_pass_and_pass_to_pass():
    found = {"f_ok": "PASSED", "f_xfail": "XFAIL", "f_skip": "SKIPPED", "p_skip": "SKIPPED",
             "p_ok": "PASSED"}
    assert grade(found, ["f_ok", "f_xfail"], ["p_skip", "p_ok"]).resolved
    g = grade(found, ["f_ok", "f_skip"], ["p_ok", "p_gone"])
    assert not g.resolved and g.failing == ["f_skip", "p_gone"]
    assert ("pass_to_pass", "p_gone", "missing") in g.outcomes
    assert grade({}, [], []).resolved  # empty lists count as all succeeded


def test_truncated_parametrized_ids_match_when_the_reported_ids_agree():
    found = {"t.py::test_x[log(a b)]": "PASSED", "t.py::test_x[log(a c)]": "XFAIL",
             "t.py::test_y[1 2]": "PASSED", "t.py::test_y[1 3]": "FAILED"}
    assert grade(found, ["t.py::test_x[log(a"], []).resolved
    assert grade(found, ["t.py::test_y[1"], []).failing == ["t.py::test_y[1"]  # they disagree
    assert not grade(found, ["t.py::test_x"], []).resolved  # a complete id matches exactly only


def _log(body: str, tail: str = "") -> str:
    return f"setup\n{START_TEST_OUTPUT}\n{body}\n{END_TEST_OUTPUT}\n{tail}"


def test_failure_markers_and_missing_markers_mean_no_results():
    assert read_test_output(">>>>> Patch Apply Failed\n", "pytest").reason == "Patch Apply Failed"
    assert "markers" in read_test_output("PASSED t.py::a\n", "pytest").reason
    assert read_test_output(_log("nothing"), "pytest").reason == "no test results in the output"
    grade_, why = grade_test_output(_log("PASSED t.py::a"), "pytest", ["t.py::a"], [])
    assert why is None and grade_.resolved


def test_a_nonzero_exit_code_without_failures_voids_the_log():
    text = _log("PASSED t.py::a", ">>>>> Test Exit Code: 1\n")
    assert "exited 1" in read_test_output(text, "pytest").reason
    assert read_test_output(_log("PASSED t.py::a\nFAILED t.py::b", ">>>>> Test Exit Code: 1\n"),
                            "pytest").status_map == {"t.py::a": "PASSED", "t.py::b": "FAILED"}


def test_results_outside_the_markers_are_read_when_inside_is_empty():
    text = f"{START_TEST_OUTPUT}\n{END_TEST_OUTPUT}\nPASSED t.py::a\n"
    assert read_test_output(text, "pytest").status_map == {"t.py::a": "PASSED"}
