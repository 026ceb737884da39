from swepipe.execute.test_logs import (
    canonical_django_id, django_label, django_module_label, parse_django, parse_pytest,
)

PYTEST_LOG = """
tests/test_a.py::test_ok PASSED                                          [ 20%]
tests/test_a.py::test_skip SKIPPED (no reason)                           [ 40%]
tests/test_a.py::test_p[a b-1] FAILED                                    [ 60%]
tests/test_a.py::test_xf XFAIL                                           [ 80%]
tests/test_a.py::test_err ERROR                                          [100%]
=========================== short test summary info ============================
PASSED tests/test_a.py::test_ok
SKIPPED [1] tests/test_a.py:9: no reason
XFAIL tests/test_a.py::test_xf - reason: known
FAILED tests/test_a.py::test_p[a b-1] - AssertionError: assert 1 == 2
ERROR tests/test_a.py::test_err - RuntimeError: fixture broke
"""


def test_pytest_summary_and_verbose_lines_give_every_outcome():
    assert parse_pytest(PYTEST_LOG) == {
        "tests/test_a.py::test_ok": "passed", "tests/test_a.py::test_skip": "skipped",
        "tests/test_a.py::test_p[a b-1]": "failed", "tests/test_a.py::test_xf": "passed",
        "tests/test_a.py::test_err": "error"}


DJANGO_LOG = """
test_one (app.tests.ATests) ... ok
test_two (app.tests.ATests.test_two) ... FAIL
test_three (app.tests.ATests)
Docstring of three. ... ERROR
test_four (app.tests.ATests) ... skipped 'needs db'
test_five (app.tests.ATests) ... expected failure

======================================================================
FAIL: test_two (app.tests.ATests.test_two)
"""


def test_django_output_is_parsed_in_both_unittest_formats():
    found = parse_django(DJANGO_LOG)
    assert found["test_one (app.tests.ATests)"] == "passed"
    assert found["test_two (app.tests.ATests)"] == "failed"
    assert found["test_three (app.tests.ATests)"] == "error"
    assert found["Docstring of three."] == "error"
    assert found["test_four (app.tests.ATests)"] == "skipped"
    assert found["test_five (app.tests.ATests)"] == "passed"


def test_django_ids_map_to_runtests_labels():
    assert canonical_django_id("test_x (a.b.C.test_x)") == "test_x (a.b.C)"
    assert django_label("test_x (a.b.C)") == "a.b.C.test_x"
    assert django_label("A docstring line.") is None
    assert django_module_label("tests/migrations/test_commands.py") == "migrations.test_commands"
