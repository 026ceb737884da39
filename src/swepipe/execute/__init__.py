"""Running model-written code: the local sandbox, the Docker executor, and gold tests.

`LocalSandbox` and `DockerExecutor` implement `protocols.Executor`; `run_gold_tests` grades a
candidate with an instance's FAIL_TO_PASS / PASS_TO_PASS tests. See docs/execution.md.
"""

import lazy_loader

# lazy: `swepipe --help` imports the command modules of this package and must start fast
__getattr__, __dir__, __all__ = lazy_loader.attach(__name__, submod_attrs={
    "gold_tests": ["GoldTestConfig", "GoldTestResult", "run_gold_tests"],
    "sandbox": ["LocalSandbox", "SandboxConfig"],
    "workcopy": ["PatchRejected"]})
