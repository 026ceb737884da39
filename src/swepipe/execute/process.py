"""Run one command as a limited subprocess: own process group, wall-time and memory limits,
output captured with a cap. The sandbox wraps this with a working copy and isolation.

Output beyond the cap keeps its head and its tail (a test runner's summary is at the end) with a
marker in between saying how many bytes were dropped; memory use stays bounded by the cap however
much the command prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from swepipe.types import ExecutionOutput


class CappedBuffer:
    """Keeps the first and last `cap // 2` bytes of a stream."""

    def __init__(self, cap: int) -> None:
        self.cap, self.head, self.tail, self.dropped = cap, bytearray(), bytearray(), 0

    def feed(self, data: bytes) -> None:
        room = self.cap // 2 - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if not data:
            return
        self.tail += data
        keep = self.cap - self.cap // 2
        if len(self.tail) > keep:
            self.dropped += len(self.tail) - keep
            del self.tail[: len(self.tail) - keep]

    def text(self) -> str:
        middle = f"\n... [{self.dropped} bytes truncated] ...\n".encode() if self.dropped else b""
        return bytes(self.head + middle + self.tail).decode("utf-8", errors="replace")


async def _pump(stream: asyncio.StreamReader | None, buf: CappedBuffer) -> None:
    if stream is None:
        return
    while chunk := await stream.read(65536):
        buf.feed(chunk)


def _limits(memory_bytes: int | None):  # type: ignore[no-untyped-def]
    def apply() -> None:  # runs in the child between fork and exec: keep it to syscalls
        if memory_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a crashing test leaves no core file
    return apply


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


async def run_limited(command: Sequence[str], *, cwd: Path, env: Mapping[str, str],
                      timeout_s: float, memory_bytes: int | None, max_output_bytes: int,
                      drain_s: float = 2.0) -> ExecutionOutput:
    """Run `command`; on timeout SIGKILL its whole process group. Never raises for the
    command's own failures (a missing executable is exit code 127 with the error in stderr)."""
    out, err = CappedBuffer(max_output_bytes), CappedBuffer(max_output_bytes)
    start = time.monotonic()
    try:
        proc = await asyncio.create_subprocess_exec(
            *command, cwd=cwd, env=dict(env), stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
            start_new_session=True, preexec_fn=_limits(memory_bytes))
    except (FileNotFoundError, PermissionError) as exc:
        return ExecutionOutput(stdout="", stderr=str(exc), exit_code=127,
                               duration_s=time.monotonic() - start)
    pumps = asyncio.gather(_pump(proc.stdout, out), _pump(proc.stderr, err))
    timed_out = False
    try:
        await asyncio.wait_for(proc.wait(), timeout_s)
    except asyncio.TimeoutError:
        timed_out = True
    except asyncio.CancelledError:
        _kill_group(proc.pid)
        raise
    # Kill the group in every case: background processes the command left behind would hold
    # the pipes open and outlive the sandbox.
    _kill_group(proc.pid)
    await proc.wait()
    try:
        # a process that left the group (setsid, without PID namespaces) may keep the pipes
        # open: stop reading after a grace period rather than hang
        await asyncio.wait_for(pumps, drain_s)
    except asyncio.TimeoutError:
        pumps.cancel()
    duration = time.monotonic() - start
    code = proc.returncode if proc.returncode is not None else -signal.SIGKILL
    return ExecutionOutput(stdout=out.text(), stderr=err.text(), exit_code=code,
                           timed_out=timed_out, duration_s=duration)
