"""`LocalSandbox`: the `Executor` that runs model-written code on this machine.

Per call: check the patch and file paths (before anything is copied or run), copy the repository
to a fresh directory, apply the patch, write the files, run the command there with limits and a
clean environment, and remove the copy. What is and is not isolated is in `docs/execution.md`
and `isolation.py`; in short, with the `namespaces` level nothing outside the working copy and
the sandbox home can be written, there is no network, host Unix sockets are hidden, and every
process dies with the command, and with its owner when the owner is killed. Copies that a killed
owner could not remove are removed by the next process to start (`scratch.py`).
"""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from swepipe.execute import isolation
from swepipe.execute.process import run_limited
from swepipe.execute.scratch import new_dir
from swepipe.execute.workcopy import (
    CopyMethod, apply_patch, check_inputs, copy_repo, remove_tree, write_files,
)
from swepipe.types import ExecutionOutput

_DEFAULT_PASS_ENV = ("PATH", "LANG", "LC_ALL", "TZ")


class SandboxConfig(BaseModel):
    """Runtime settings of the local sandbox; none of them enters a config hash."""

    model_config = {"extra": "forbid"}

    memory_mb: int | None = 4096
    """Address-space limit (RLIMIT_AS) of the command and each child, in MiB; None = no limit."""
    max_output_bytes: int = 1_000_000
    """Cap per stream (stdout, stderr); beyond it the head and tail are kept."""
    isolation: Literal["auto", "namespaces", "net", "none"] = "auto"
    """`auto` picks the strongest level `isolation.probe()` finds working on this machine."""
    copy_method: CopyMethod = "cp"
    """`cp` (exact copy, default) or `clone` (git clone --shared; for repos with a big .git)."""
    scratch_dir: Path | None = None
    """Where working copies are made; None = `/dev/shm` when it is a writable tmpfs with at
    least `min_shm_free_mb` free (copies there are ~20x faster than to a busy disk), else the
    system temp dir."""
    min_shm_free_mb: int = 2048
    """Free space `/dev/shm` needs to be chosen automatically."""
    pass_env: list[str] = Field(default_factory=lambda: list(_DEFAULT_PASS_ENV))
    """Names of parent environment variables passed through (an allowlist; secrets never are)."""
    env: dict[str, str] = Field(default_factory=dict)
    """Extra variables set for the command (after the allowlist)."""
    python: str = sys.executable
    """Interpreter the isolation probe runs; also what `{python}` in commands means to callers."""
    keep_workdir: bool = False
    """Keep the working copy after the run (debugging); its path is logged in stderr."""
    drain_s: float = 2.0
    """How long to keep reading output after the command ended or was killed."""


class LocalSandbox:
    """Runs commands in a fresh working copy with limits, no secrets and (where the OS
    allows) no network and no writes outside the copy. Implements `protocols.Executor`."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self._level: isolation.Level | None = None

    @property
    def scratch_root(self) -> Path:
        """The directory working copies are made in."""
        if self.config.scratch_dir is not None:
            return self.config.scratch_dir
        shm = Path("/dev/shm")
        try:
            st = os.statvfs(shm)
            if os.access(shm, os.W_OK) and \
                    st.f_bavail * st.f_frsize >= self.config.min_shm_free_mb * 2**20:
                return shm
        except OSError:
            pass
        return Path(tempfile.gettempdir())

    @property
    def level(self) -> isolation.Level:
        """The isolation level in use (probed on first use when `auto`)."""
        if self._level is None:
            want = self.config.isolation
            self._level = (isolation.probe(self.config.python, str(self.scratch_root))
                           if want == "auto" else want)
        return self._level

    def environment(self, home: Path) -> dict[str, str]:
        """The child's whole environment: the allowlist, a private HOME and TMPDIR, extras."""
        env = {k: os.environ[k] for k in self.config.pass_env if k in os.environ}
        env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
        env.setdefault("LANG", "C.UTF-8")
        tmp = home / "tmp"
        env.update(HOME=str(home), TMPDIR=str(tmp), TEMP=str(tmp), TMP=str(tmp),
                   PYTHONDONTWRITEBYTECODE="1", PIP_NO_INPUT="1", GIT_TERMINAL_PROMPT="0")
        env.update(self.config.env)
        return env

    async def run(self, repo: Path, command: Sequence[str], *, patch: str | None = None,
                  files: dict[str, str] | None = None, timeout_s: float = 60.0,
                  patches: dict[str, str] | None = None) -> ExecutionOutput:
        """Copy `repo`, apply `patch` (then each of `patches`, in order: e.g. the candidate and
        the gold tests), write `files`, run `command` in the copy.

        Raises `PatchRejected` (an `ExecutionError`) when a patch or file path is unsafe or a
        patch does not apply: nothing has run then. A command that fails, crashes or times
        out is an `ExecutionOutput`, not an exception.
        """
        repo = Path(repo)
        all_patches = {"patch": patch, **(patches or {})}
        check_inputs(repo, all_patches, files)
        level = self.level  # probe outside the timed part
        # also removes, once per process, what owners that died mid-run left in the root
        scratch = await asyncio.to_thread(new_dir, self.scratch_root)
        workdir, home = scratch / "repo", scratch / "home"
        try:
            # copying and applying block on subprocesses: off the event loop, so concurrent
            # runs overlap
            await asyncio.to_thread(self._prepare, repo, workdir, home, all_patches, files)
            cmd = isolation.wrap(level, scratch, list(command))
            result = await run_limited(
                cmd, cwd=workdir, env=self.environment(home), timeout_s=timeout_s,
                memory_bytes=self.config.memory_mb * 2**20 if self.config.memory_mb else None,
                max_output_bytes=self.config.max_output_bytes, drain_s=self.config.drain_s)
            if self.config.keep_workdir:
                result.stderr = (result.stderr or "") + f"\n[swepipe] working copy: {workdir}\n"
            return result
        finally:
            if not self.config.keep_workdir:
                await asyncio.to_thread(remove_tree, scratch)

    def _prepare(self, repo: Path, workdir: Path, home: Path,
                 patches: dict[str, str | None], files: dict[str, str] | None) -> None:
        copy_repo(repo, workdir, self.config.copy_method)
        (home / "tmp").mkdir(parents=True)
        for which, diff in patches.items():
            if diff and diff.strip():
                apply_patch(workdir, diff, which)
        if files:
            write_files(workdir, files)


async def time_sandbox_start(sandbox: LocalSandbox, repo: Path, n: int = 10) -> float:
    """Mean seconds for a sandbox run of `true` (copy + isolation + process start + cleanup)."""
    start = time.perf_counter()
    for _ in range(n):
        await sandbox.run(repo, ["true"], timeout_s=30)
    return (time.perf_counter() - start) / n
