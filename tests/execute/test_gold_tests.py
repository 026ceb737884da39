import subprocess
from pathlib import Path

from swepipe.execute.gold_tests import GoldTestConfig, build_command, run_gold_tests
from swepipe.execute.sandbox import LocalSandbox
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



async def test_a_skipped_pass_to_pass_test_resolves_a_skipped_fail_to_pass_does_not(
        instance, repo, sandbox):
    # SWE-bench's rules: a skip is not a regression, and not a fix either
    mul = (repo / "tests/test_mul.py").read_text()
    skip_mul = instance.patch + make_diff({"tests/test_mul.py": mul}, {
        "tests/test_mul.py": "import pytest\n" + mul.replace("def test_mul", "@pytest.mark.skip\n"
                                                               "def test_mul")})
    result = await run_gold_tests(instance, skip_mul, sandbox, repo)
    assert statuses(result)["tests/test_mul.py::test_mul"] == "skipped" and result.resolved
    conftest = ("import pytest\n\n\ndef pytest_collection_modifyitems(items):\n"
                "    for item in items:\n        if item.name == 'test_add':\n"
                "            item.add_marker(pytest.mark.skip)\n")
    skip_add = instance.patch + make_diff({}, {"conftest.py": conftest})
    result = await run_gold_tests(instance, skip_add, sandbox, repo)
    assert statuses(result)["tests/test_add.py::test_add"] == "skipped"
    assert not result.resolved

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
