from swepipe.execute.grading import grade
from swepipe.execute.test_logs import (
    canonical_django_id, django_label, django_module_label, status_map,
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


def test_pytest_output_is_read_by_the_harness_parser():
    # the `-rA` summary only: a folded skip names no test, the verbose lines are not read
    assert status_map(PYTEST_LOG, "pytest") == {
        "tests/test_a.py::test_ok": "PASSED", "tests/test_a.py::test_xf": "XFAIL",
        "tests/test_a.py::test_p[a": "FAILED", "tests/test_a.py::test_err": "ERROR"}


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
    found = status_map(DJANGO_LOG, "django")
    assert found["test_one (app.tests.ATests)"] == "PASSED"
    assert found["test_two (app.tests.ATests)"] == "FAILED"  # 3.11's form, canonical too
    assert found["test_two (app.tests.ATests.test_two)"] == "FAILED"
    assert found["Docstring of three."] == "ERROR"  # the harness keys it by its docstring
    assert found["test_four (app.tests.ATests)"] == "SKIPPED"
    assert "test_five (app.tests.ATests)" not in found  # the harness reads no `expected failure`


def test_a_skipped_django_pass_to_pass_test_is_no_regression_a_skipped_fix_is_no_fix():
    found = status_map(DJANGO_LOG, "django")
    ok = grade(found, ["test_one (app.tests.ATests)"], ["test_four (app.tests.ATests)"])
    assert ok.resolved and ok.outcomes[1] == ("pass_to_pass", "test_four (app.tests.ATests)",
                                              "skipped")
    assert not grade(found, ["test_four (app.tests.ATests)"], []).resolved


def test_django_ids_map_to_runtests_labels():
    assert canonical_django_id("test_x (a.b.C.test_x)") == "test_x (a.b.C)"
    assert django_label("test_x (a.b.C)") == "a.b.C.test_x"
    assert django_label("A docstring line.") is None
    assert django_module_label("tests/migrations/test_commands.py") == "migrations.test_commands"
