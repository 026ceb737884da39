"""Gold tests in a harness image the way the SWE-bench harness runs them: its eval script, its
grading.

For an instance of a SWE-bench repository (one `test_specs` knows) run by the `DockerExecutor`,
`run_gold_tests` comes here instead of building its own pytest/Django command: the candidate is
applied in the container, then the harness-shaped `eval.sh` (`test_specs.eval_script`: activate
`testbed`, re-install, reset the test files, apply the test patch, run the repository's test
command between the `>>>>> Start/End Test Output` markers) runs, and its output is graded with
`grading.grade_test_output` and the repository's log parser, as an imported harness log is
(stdout and stderr as one stream, like the harness's `test_output.txt`). So
a verdict from `swepipe evaluate --executor docker` and one imported from the harness agree.

The container has no network: a re-install (`pip install -e .`) can only use what the image
holds; the image's environment already has the package installed, so a failed re-install leaves
the tests running against it, as the harness's script (no `set -e`) would.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from swepipe.errors import ExecutionError, InputError
from swepipe.execute import test_specs
from swepipe.execute.grading import grade_test_output
from swepipe.execute.workcopy import PatchRejected
from swepipe.types import Instance, TestOutcome

if TYPE_CHECKING:
    from swepipe.execute.docker import DockerExecutor
    from swepipe.execute.gold_tests import GoldTestConfig, GoldTestResult

EVAL_SCRIPT = "eval.sh"


def harness_spec(instance: Instance) -> test_specs.TestSpec | None:
    """The harness's test spec of the instance's repository and version, if it has one."""
    try:
        return test_specs.spec_for(instance.repo, instance.repo_version)
    except InputError:
        return None


async def run_harness_tests(instance: Instance, spec: test_specs.TestSpec, diff: str,
                            executor: DockerExecutor, repo_dir: Path, config: GoldTestConfig,
                            base: GoldTestResult) -> GoldTestResult:
    """`base` (ids and kinds filled in) completed with the harness run's outcomes; `spec` is
    the instance's `harness_spec`."""
    script = test_specs.eval_script(spec, instance.base_commit, instance.test_patch,
                                    repo_dir=executor.config.workdir)
    # one stream, as the harness's test_output.txt: `set -x` traces (the output markers among
    # them) go to stderr, so apart the test output would not lie between the markers
    command = ["bash", "-c", f"bash /tmp/swepipe/{EVAL_SCRIPT} 2>&1"]
    base = base.model_copy(update={"framework": None, "command": [
        test_specs.command_for(spec, instance.test_patch)]})
    try:
        out = await executor.run(repo_dir, command, patch=diff or None,
                                 timeout_s=config.timeout_s, scripts={EVAL_SCRIPT: script})
    except PatchRejected as exc:
        return base.model_copy(update={"status": exc.run_status, "reason": str(exc)})
    except ExecutionError as exc:
        return base.model_copy(update={"status": "error", "reason": str(exc)})
    log = (out.stdout or "") + "\n" + (out.stderr or "")
    grade, why = grade_test_output(log, spec.parser, instance.fail_to_pass,
                                   instance.pass_to_pass)
    if grade is None or out.timed_out:
        missing = "timeout" if out.timed_out else "missing"
        outcomes = [TestOutcome(test_id=t, status=missing) for t in base.kinds]
        reason = "the test run hit its time limit" if out.timed_out else why
    else:
        outcomes = [TestOutcome.model_validate({"test_id": t, "status": s})
                    for _, t, s in grade.outcomes]
        reason = None
    return base.model_copy(update={
        "resolved": grade is not None and not out.timed_out and grade.resolved,
        "outcomes": outcomes, "reason": reason, "exit_code": out.exit_code,
        "timed_out": out.timed_out, "duration_s": out.duration_s,
        "log_tail": log[-config.log_tail_chars:]})
