"""Running model-written code: the local sandbox, the Docker executor, and gold tests.

`LocalSandbox` and `DockerExecutor` implement `protocols.Executor`; `run_gold_tests` grades a
candidate with an instance's FAIL_TO_PASS / PASS_TO_PASS tests. See docs/execution.md.
"""

from swepipe.execute.gold_tests import GoldTestConfig, GoldTestResult, run_gold_tests
from swepipe.execute.sandbox import LocalSandbox, SandboxConfig
from swepipe.execute.workcopy import PatchRejected

__all__ = ["GoldTestConfig", "GoldTestResult", "LocalSandbox", "PatchRejected", "SandboxConfig",
           "run_gold_tests"]
