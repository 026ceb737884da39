"""Run an instance's gold tests against a candidate patch: did it resolve the issue?

In a fresh working copy the candidate and then the instance's `test_patch` are applied, the test
files the test patch touches (and those the test ids name) are run, and the output is graded as
the official harness grades its logs: its parsers (`log_parsers`) and status rules
(`grading.grade`), so a local verdict and an imported one mean the same (a non-strict XPASS, or
a pytest skip, whose `-rA` line names no test, is `missing`). Running whole files rather than
single ids follows the SWE-bench harness: parametrized ids do not always select cleanly, and the
P2P tests live in those files.

Test ids that the output does not mention are `missing`, or `timeout` when the run hit its
wall-time limit. A candidate that is unsafe or does not apply ends as a result with that
status, not an exception. sympy's `bin/test` ids are not supported yet (pytest and Django only).

In a harness image (`DockerExecutor`), an instance of a SWE-bench repository runs the harness's
own eval script and grading instead (`execute/harness_tests.py`).
"""

from __future__ import annotations

import inspect
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from swepipe.errors import ExecutionError, InputError
from swepipe.execute import grading, log_parsers, test_logs
from swepipe.execute.docker import DockerExecutor
from swepipe.execute.harness_tests import harness_spec, run_harness_tests
from swepipe.execute.test_specs import TestSpec
from swepipe.execute.workcopy import PatchRejected
from swepipe.patch.diff import parse_diff
from swepipe.protocols import Executor
from swepipe.types import Instance, Patch, TestOutcome

Framework = Literal["pytest", "django"]
RunStatus = Literal["ok", "unsafe", "apply_failed", "test_patch_failed", "error"]


class GoldTestConfig(BaseModel):
    """How gold tests are run; runtime settings (nothing here changes what a test means)."""

    model_config = {"extra": "forbid"}

    framework: Literal["auto", "pytest", "django"] = "auto"
    """`auto`: Django when the repo has `tests/runtests.py` and the ids are Django labels."""
    python: str = sys.executable
    """Interpreter inside the executor (a SWE-bench image wants `python`)."""
    timeout_s: float = 1800.0
    """Wall-time limit of the whole test run."""
    pytest_args: list[str] = Field(default_factory=lambda: ["-rA", "-v", "-p", "no:cacheprovider"])
    """Arguments before the test files; `-rA -v` is what the parser reads."""
    django_args: list[str] = Field(default_factory=lambda: ["--verbosity", "2", "--parallel", "1"])
    """Arguments to `tests/runtests.py` before the labels (SWE-bench adds `--settings=...`)."""
    log_tail_chars: int = 4000
    """How much of the end of the output to keep in the result."""


class GoldTestResult(BaseModel):
    """One candidate's gold-test run; the lead writes `outcomes` to `test_runs`."""

    instance_id: str
    status: RunStatus
    """`ok`: the tests ran (whatever they returned); otherwise why they could not run."""
    resolved: bool = False
    """Every FAIL_TO_PASS test passed and every PASS_TO_PASS test passed or was skipped, by the
    harness's parsers and rules (`grading.grade`); never after a timeout."""
    outcomes: list[TestOutcome] = Field(default_factory=list)
    kinds: dict[str, Literal["FAIL_TO_PASS", "PASS_TO_PASS"]] = Field(default_factory=dict)
    """Which list each test id came from."""
    framework: Framework | None = None
    command: list[str] = Field(default_factory=list)
    reason: str | None = None
    exit_code: int | None = None
    timed_out: bool = False
    duration_s: float = 0.0
    log_tail: str = ""

    def passed(self, kind: str) -> tuple[int, int]:
        """(passed, total) for `FAIL_TO_PASS` or `PASS_TO_PASS`."""
        ids = [o for o in self.outcomes if self.kinds.get(o.test_id) == kind]
        return sum(o.status == "passed" for o in ids), len(ids)


def local_parser(spec: TestSpec | None, framework: Framework) -> str:
    """The harness log parser that reads this run's output: Django's for `runtests.py`, else the
    repository's pytest parser when the harness has a spec for it (`pytest_v2` for astropy, ...),
    else plain `pytest`. Only the id-reading differs between them; the status rules are
    `grading.grade`'s either way."""
    if framework == "django":
        return "django"
    if spec is not None and spec.parser in log_parsers.PYTEST_PARSERS:
        return spec.parser
    return "pytest"


def detect_framework(instance: Instance, repo_dir: Path) -> Framework:
    ids = instance.fail_to_pass + instance.pass_to_pass
    if (repo_dir / "tests" / "runtests.py").is_file() and any(map(test_logs.is_django_id, ids)):
        return "django"
    return "pytest"


def _test_patch_files(test_patch: str) -> list[str]:
    try:
        return [c.target_path or c.path for c in parse_diff(test_patch, source="test_patch")
                if c.change_type != "deleted"]
    except InputError:  # an unparseable test_patch fails later, when it is applied
        return []


def build_command(instance: Instance, framework: Framework, config: GoldTestConfig) -> list[str]:
    """The command that runs the gold tests (SWE-bench's test directives, plus id files)."""
    files = _test_patch_files(instance.test_patch)
    ids = instance.fail_to_pass + instance.pass_to_pass
    if framework == "django":
        labels = [lbl for f in files if (lbl := test_logs.django_module_label(f))]
        covered = tuple(labels)
        for test_id in ids:
            lbl = test_logs.django_label(test_id)
            if lbl and not lbl.startswith(tuple(c + "." for c in covered)):
                labels.append(lbl)
        return [config.python, "tests/runtests.py", *config.django_args,
                *dict.fromkeys(labels)]
    targets = [f for f in files if f.endswith(".py")]
    targets += [test_logs.pytest_file(t) for t in ids if "::" in t]
    return [config.python, "-m", "pytest", *config.pytest_args, *dict.fromkeys(targets)]


async def _execute(executor: Executor, repo_dir: Path, command: list[str], candidate: str,
                   test_patch: str, timeout_s: float):  # type: ignore[no-untyped-def]
    # Executors that take several patches apply them in order and name the failing one;
    # others get the two diffs concatenated (fine unless both touch the same file).
    if "patches" in inspect.signature(executor.run).parameters:
        return await executor.run(repo_dir, command, patch=candidate or None, timeout_s=timeout_s,
                                  patches={"test_patch": test_patch})  # type: ignore[call-arg]
    joined = "\n".join(p.rstrip("\n") for p in (candidate, test_patch) if p.strip()) + "\n"
    return await executor.run(repo_dir, command, patch=joined, timeout_s=timeout_s)


async def run_gold_tests(instance: Instance, candidate: Patch | str | None, executor: Executor,
                         repo_dir: Path | str, config: GoldTestConfig | None = None
                         ) -> GoldTestResult:
    """Apply `candidate` and the instance's test patch in a fresh copy of `repo_dir` (a checkout
    at `base_commit`; for a `DockerExecutor`, whose image holds the code, an empty directory
    will do), run the gold tests, and grade them."""
    config = config or GoldTestConfig()
    repo_dir = Path(repo_dir)
    diff = candidate.diff if isinstance(candidate, Patch) else (candidate or "")
    kinds = {t: "FAIL_TO_PASS" for t in instance.fail_to_pass}
    kinds.update({t: "PASS_TO_PASS" for t in instance.pass_to_pass})
    spec = harness_spec(instance)
    if isinstance(executor, DockerExecutor) and spec is not None:
        # a SWE-bench repository in its harness image: the harness's eval script and grading
        base = GoldTestResult(instance_id=instance.instance_id, status="ok", kinds=kinds)
        return await run_harness_tests(instance, spec, diff, executor, repo_dir, config, base)
    framework = (detect_framework(instance, repo_dir) if config.framework == "auto"
                 else config.framework)
    command = build_command(instance, framework, config)
    base = GoldTestResult(instance_id=instance.instance_id, status="ok", kinds=kinds,
                          framework=framework, command=command)
    try:
        out = await _execute(executor, repo_dir, command, diff, instance.test_patch,
                             config.timeout_s)
    except PatchRejected as exc:
        return base.model_copy(update={"status": exc.run_status, "reason": str(exc)})
    except ExecutionError as exc:
        return base.model_copy(update={"status": "error", "reason": str(exc)})
    log = (out.stdout or "") + "\n" + (out.stderr or "")
    found = test_logs.status_map(log, local_parser(spec, framework))
    graded = grading.grade(found, instance.fail_to_pass, instance.pass_to_pass)
    missing = "timeout" if out.timed_out else "missing"
    outcomes = [TestOutcome.model_validate({"test_id": t, "status": missing if s == "missing"
                                            else s}) for _, t, s in graded.outcomes]
    resolved = graded.resolved and not out.timed_out  # the harness: a timeout has no results
    return base.model_copy(update={
        "resolved": resolved, "outcomes": outcomes, "exit_code": out.exit_code,
        "timed_out": out.timed_out, "duration_s": out.duration_s,
        "log_tail": log[-config.log_tail_chars:]})
