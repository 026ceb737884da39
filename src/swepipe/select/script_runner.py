"""Run standalone test scripts against one candidate in the sandbox, several per working copy.

A test script (CodeMonkeys' generated tests, Agentless' reproduction test) is a Python file run
as `python script.py` from the repository root, with the root on `PYTHONPATH` so the package is
importable without being installed. Copying the repository and applying the candidate cost more
than a small script, so up to `batch_size` scripts share one working copy: one executor call
writes them under `.swepipe_tests/` with a small driver that runs each as its own process (its
own time limit, stdout and stderr merged, the tail kept) and prints the results as JSON. A
script that writes files can affect the next one in the same copy; `batch_size = 1` isolates
every script in its own copy.

How an outcome becomes a status depends on the test kind: CodeMonkeys scripts exit 0 when the
issue is fixed, 2 when it is not, anything else is a crash (`exit_code_status`); Agentless
reproduction tests print "Issue resolved" / "Issue reproduced" / "Other issues"
(`reproduction_status`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from pydantic import BaseModel

from swepipe.errors import ExecutionError
from swepipe.generate.reproduction import verdict
from swepipe.protocols import Executor
from swepipe.types import ExecutionOutput

_MARKER = "@@SWEPIPE-SCRIPT-RESULTS@@"
_DIR = ".swepipe_tests"
_DRIVER = f"""
import json, os, subprocess, sys, time
spec = json.load(open(sys.argv[1]))
env = dict(os.environ)
env["PYTHONPATH"] = os.pathsep.join(p for p in (os.getcwd(), env.get("PYTHONPATH")) if p)
results = []
for path in spec["scripts"]:
    start, timed_out = time.monotonic(), False
    try:
        proc = subprocess.run([sys.executable, path], stdin=subprocess.DEVNULL, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=spec["timeout_s"])
        code, out = proc.returncode, proc.stdout
    except subprocess.TimeoutExpired as exc:
        code, out, timed_out = -9, exc.stdout or b"", True
    text = out.decode("utf-8", "replace")[-spec["max_chars"]:]
    results.append({{"exit_code": code, "output": text, "timed_out": timed_out,
                     "duration_s": time.monotonic() - start}})
print({_MARKER!r} + json.dumps(results))
"""


class ScriptRunConfig(BaseModel):
    """How scripts are run. Components hold it as a `Runtime` field: nothing here changes what
    a test means, so it stays out of config hashes."""

    model_config = {"extra": "forbid"}

    python: str = sys.executable
    """Interpreter inside the executor (a SWE-bench image wants `python`)."""
    timeout_s: float = 60.0
    """Wall-time limit of one script."""
    batch_size: int = 16
    """Scripts sharing one working copy per executor call; 1 isolates every script."""
    concurrency: int = 4
    """Executor calls in flight at once for one instance."""
    max_output_chars: int = 4000
    """Tail of each script's output that is kept (and stored in `test_runs.output`)."""


class ScriptResult(BaseModel):
    exit_code: int
    output: str = ""
    timed_out: bool = False
    duration_s: float = 0.0


def exit_code_status(result: ScriptResult) -> str:
    """CodeMonkeys' convention: 0 fixed (passed), 2 not fixed (failed), else a crash (error)."""
    if result.timed_out:
        return "timeout"
    return {0: "passed", 2: "failed"}.get(result.exit_code, "error")


def reproduction_status(result: ScriptResult) -> str:
    """Agentless' convention, read by `generate.reproduction.verdict`: "Issue reproduced" is
    failed (checked first, as Agentless does), "Issue resolved" passed, anything else error."""
    found = verdict(ExecutionOutput(stdout=result.output, exit_code=result.exit_code,
                                    timed_out=result.timed_out))
    return {"reproduced": "failed", "resolved": "passed", "timeout": "timeout"}.get(found, "error")


StatusFn = Callable[[ScriptResult], str]


async def run_scripts(executor: Executor, repo_dir: Path, diff: str, scripts: Sequence[str],
                      config: ScriptRunConfig) -> list[ScriptResult]:
    """Run `scripts` on the candidate `diff` ('' = original code) in one working copy.

    Raises `ExecutionError` (e.g. `PatchRejected`) when the candidate cannot be set up; the
    caller decides what that means for its cells."""
    if not scripts:
        return []
    paths = [f"{_DIR}/test_{i}.py" for i in range(len(scripts))]
    spec = {"scripts": paths, "timeout_s": config.timeout_s,
            "max_chars": config.max_output_chars}
    files = dict(zip(paths, scripts))
    files[f"{_DIR}/driver.py"] = _DRIVER
    files[f"{_DIR}/spec.json"] = json.dumps(spec)
    # the driver enforces per-script limits; this bound only catches a hung driver
    out = await executor.run(repo_dir, [config.python, f"{_DIR}/driver.py", f"{_DIR}/spec.json"],
                             patch=diff or None, files=files,
                             timeout_s=config.timeout_s * len(scripts) + 30)
    return _parse(out, len(scripts))


def _parse(out: ExecutionOutput, n: int) -> list[ScriptResult]:
    stdout = out.stdout or ""
    at = stdout.rfind(_MARKER)
    if at < 0:
        why = "timed out" if out.timed_out else f"exited {out.exit_code}"
        raise ExecutionError(f"test driver {why} without results: "
                             f"{(out.stderr or stdout)[-500:]}")
    results = [ScriptResult.model_validate(r)
               for r in json.loads(stdout[at + len(_MARKER):].splitlines()[0])]
    if len(results) != n:
        raise ExecutionError(f"test driver returned {len(results)} results for {n} scripts")
    return results
