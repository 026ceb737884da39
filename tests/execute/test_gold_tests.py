import subprocess
from pathlib import Path

from swepipe.execute.grading import grade_test_output
from swepipe.execute.gold_tests import GoldTestConfig, build_command, run_gold_tests
from swepipe.execute.sandbox import LocalSandbox
from swepipe.execute.test_specs import END_TEST_OUTPUT, START_TEST_OUTPUT
from swepipe.patch.apply import make_diff
from swepipe.types import Instance, Patch


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=repo,
                   check=True, capture_output=True)


def statuses(result) -> dict[str, str]:
    return {o.test_id: o.status for o in result.outcomes}


async def test_gold_patch_resolves(instance: Instance, repo: Path, sandbox: LocalSandbox):
    result = await run_gold_tests(instance, Patch(diff=instance.patch), sandbox, repo)
    assert result.status == "ok" and result.resolved, result.log_tail
    assert set(statuses(result).values()) == {"passed"}
    assert result.passed("FAIL_TO_PASS") == (1, 1) and result.passed("PASS_TO_PASS") == (2, 2)


async def test_no_patch_does_not_resolve(instance: Instance, repo: Path, sandbox: LocalSandbox):
    result = await run_gold_tests(instance, None, sandbox, repo)
    assert result.status == "ok" and not result.resolved
    assert statuses(result) == {"tests/test_add.py::test_add": "failed",
                                "tests/test_add.py::test_add_zero": "passed",
                                "tests/test_mul.py::test_mul": "passed"}


async def test_patch_that_does_not_apply_is_apply_failed(instance, repo, sandbox):
    broken = make_diff({"calc/ops.py": "something else\n"}, {"calc/ops.py": "x\n"})
    result = await run_gold_tests(instance, broken, sandbox, repo)
    assert result.status == "apply_failed" and not result.resolved and result.outcomes == []
    assert "git_apply" in result.reason


async def test_unsafe_candidate_is_refused(instance, repo, sandbox):
    result = await run_gold_tests(instance, make_diff({}, {"../x.py": "x\n"}), sandbox, repo)
    assert result.status == "unsafe" and not result.resolved


async def test_candidate_that_breaks_a_pass_to_pass_test_does_not_resolve(instance, repo,
                                                                         sandbox):
    ops = (repo / "calc/ops.py").read_text()
    fix_and_break = make_diff({"calc/ops.py": ops}, {"calc/ops.py": ops.replace(
        "a - b", "a + b").replace("a * b", "a + b")})
    result = await run_gold_tests(instance, fix_and_break, sandbox, repo)
    assert not result.resolved
    assert statuses(result)["tests/test_mul.py::test_mul"] == "failed"
    assert result.passed("FAIL_TO_PASS") == (1, 1)



def mark(name: str, marker: str) -> str:
    """A conftest.py (a candidate can add one) putting `marker` on test `name`."""
    return make_diff({}, {"conftest.py": (
        "import pytest\n\n\ndef pytest_collection_modifyitems(items):\n"
        f"    for item in items:\n        if item.name == {name!r}:\n"
        f"            item.add_marker(pytest.mark.{marker})\n")})


def harness_grade(instance: Instance, log: str) -> tuple[bool, dict[str, str]]:
    """The official grading of the same output, as an imported harness log is graded."""
    text = f"{START_TEST_OUTPUT}\n{log}\n{END_TEST_OUTPUT}\n"
    grade, why = grade_test_output(text, "pytest", instance.fail_to_pass, instance.pass_to_pass)
    assert grade is not None, why
    return grade.resolved, {t: s for _, t, s in grade.outcomes}


async def local_and_harness(instance, candidate, sandbox, repo):
    result = await run_gold_tests(instance, candidate, sandbox, repo,
                                  GoldTestConfig(log_tail_chars=10**6))
    assert result.status == "ok", result.reason
    assert (result.resolved, statuses(result)) == harness_grade(instance, result.log_tail)
    return result


async def test_an_xpass_counts_as_the_harness_counts_it(instance, repo, sandbox):
    # non-strict: pytest's `XPASS id` is a word the harness's parser does not read, so the
    # FAIL_TO_PASS test is missing and the candidate not resolved
    loose = await local_and_harness(instance, instance.patch + mark("test_add", "xfail"),
                                    sandbox, repo)
    assert "XPASS tests/test_add.py::test_add" in loose.log_tail
    assert statuses(loose)["tests/test_add.py::test_add"] == "missing" and not loose.resolved
    # strict: pytest reports it FAILED ([XPASS(strict)])
    strict = await local_and_harness(
        instance, instance.patch + mark("test_add", "xfail(strict=True)"), sandbox, repo)
    assert "FAILED tests/test_add.py::test_add - [XPASS(strict)]" in strict.log_tail
    assert statuses(strict)["tests/test_add.py::test_add"] == "failed" and not strict.resolved
    # an expected failure that fails is XFAIL: a PASS_TO_PASS success
    ops = (repo / "calc/ops.py").read_text()
    fix_and_break = make_diff({"calc/ops.py": ops}, {"calc/ops.py": ops.replace(
        "a - b", "a + b").replace("a * b", "a + b")})
    xfail = await local_and_harness(instance, fix_and_break + mark("test_mul", "xfail"),
                                    sandbox, repo)
    assert statuses(xfail)["tests/test_mul.py::test_mul"] == "passed" and xfail.resolved


async def test_a_skipped_pytest_test_is_missing_as_in_the_harness(instance, repo, sandbox):
    # the harness passes a SKIPPED PASS_TO_PASS test, but pytest's `-rA` summary folds skips
    # into `SKIPPED [1] file:line: reason`, naming no test: the parser (and so the harness,
    # whose command is `pytest -rA`) does not see it, and the test counts as missing
    skip_mul = await local_and_harness(instance, instance.patch + mark("test_mul", "skip"),
                                       sandbox, repo)
    assert "SKIPPED [1] tests/test_mul.py" in skip_mul.log_tail
    assert statuses(skip_mul)["tests/test_mul.py::test_mul"] == "missing"
    assert not skip_mul.resolved
    skip_add = await local_and_harness(instance, instance.patch + mark("test_add", "skip"),
                                       sandbox, repo)
    assert statuses(skip_add)["tests/test_add.py::test_add"] == "missing"
    assert not skip_add.resolved


async def test_candidate_that_hangs_gives_timeout_outcomes(instance, repo, sandbox):
    ops = (repo / "calc/ops.py").read_text()
    hang = make_diff({"calc/ops.py": ops}, {"calc/ops.py": ops.replace(
        "    return a - b  # seeded bug", "    while True:\n        pass")})
    result = await run_gold_tests(instance, hang, sandbox, repo, GoldTestConfig(timeout_s=3))
    assert result.timed_out and not result.resolved
    assert statuses(result)["tests/test_add.py::test_add"] == "timeout"


async def test_test_id_not_in_the_output_is_missing(instance, repo, sandbox):
    ghost = instance.model_copy(update={"pass_to_pass": ["tests/test_mul.py::test_gone"]})
    result = await run_gold_tests(ghost, instance.patch, sandbox, repo)
    assert statuses(result)["tests/test_mul.py::test_gone"] == "missing"
    assert not result.resolved


async def test_test_patch_that_does_not_apply_is_its_own_status(instance, repo, sandbox):
    bad = instance.model_copy(update={"test_patch": make_diff({"tests/test_mul.py": "zzz\n"},
                                                              {"tests/test_mul.py": "y\n"})})
    result = await run_gold_tests(bad, instance.patch, sandbox, repo)
    assert result.status == "test_patch_failed"


RUNTESTS = '''import sys, unittest
# stands in for Django's tests/runtests.py: unittest verbosity-2 output for module labels
sys.path[:0] = ["tests", "."]
labels = [a for a in sys.argv[1:] if not a.startswith("-") and not a.isdigit()]
suite = unittest.defaultTestLoader.loadTestsFromNames(labels)
ok = unittest.TextTestRunner(verbosity=2).run(suite).wasSuccessful()
sys.exit(0 if ok else 1)
'''
DJANGO_TESTS = '''import unittest
from calc.ops import add, mul


class OpsTests(unittest.TestCase):
    def test_add(self):
        self.assertEqual(add(2, 3), 5)

    def test_mul(self):
        """Multiplication still works."""
        self.assertEqual(mul(2, 3), 6)
'''


async def test_django_style_labels_are_run_and_parsed(repo: Path, sandbox: LocalSandbox):
    (repo / "tests/runtests.py").write_text(RUNTESTS)
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "runtests")
    inst = Instance(instance_id="calc__calc-2", repo="calc/calc", base_commit="HEAD",
                    problem_statement="add() subtracts",
                    test_patch=make_diff({}, {"tests/ops_tests/tests.py": DJANGO_TESTS,
                                              "tests/ops_tests/__init__.py": ""}),
                    fail_to_pass=["test_add (ops_tests.tests.OpsTests)"],
                    pass_to_pass=["Multiplication still works."])
    ops = (repo / "calc/ops.py").read_text()
    fix = make_diff({"calc/ops.py": ops}, {"calc/ops.py": ops.replace("a - b", "a + b")})
    assert build_command(inst, "django", GoldTestConfig())[-1] == "ops_tests.tests"
    fixed = await run_gold_tests(inst, fix, sandbox, repo)
    assert fixed.framework == "django" and fixed.resolved, fixed.log_tail
    unfixed = await run_gold_tests(inst, None, sandbox, repo)
    assert statuses(unfixed) == {"test_add (ops_tests.tests.OpsTests)": "failed",
                                 "Multiplication still works.": "passed"}


def test_pytest_command_runs_test_patch_files_and_id_files(instance: Instance):
    cmd = build_command(instance, "pytest", GoldTestConfig(python="python"))
    assert cmd[:3] == ["python", "-m", "pytest"]
    assert cmd[-2:] == ["tests/test_add.py", "tests/test_mul.py"]
