"""Run one command as a limited subprocess: own process group, wall-time and memory limits,
output captured with a cap. The sandbox wraps this with a working copy and isolation.

The command is started with a parent-death signal (`PR_SET_PDEATHSIG` = SIGKILL): when the
process that launched it dies, even by SIGKILL, the kernel kills the command too. Under the
`namespaces` isolation that command is `unshare`, whose death kills the jail's PID 1 and with it
every process of the jail; at weaker levels only the launched process itself is covered.
The signal is sent when the launching *thread* ends: run commands from a thread (the event
loop's) that outlives them, as `run_limited` does by awaiting them.

Output beyond the cap keeps its head and its tail (a test runner's summary is at the end) with a
marker in between saying how many bytes were dropped; memory use stays bounded by the cap however
much the command prints.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import resource
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from swepipe.types import ExecutionOutput

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)  # loaded here, not between fork and exec


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


class _PipeReader:
    """Feeds a pipe into a `CappedBuffer` from the event loop; `done` resolves when the pipe's
    last writer closes.

    Not `loop.connect_read_pipe`: uvloop's pipe transport closes the descriptor and then the file
    object closes it again, and between the two another thread (a working copy being made) can
    be given that number, whose close then fails its subprocess with EBADF. Here the descriptor
    is ours and is closed exactly once."""

    def __init__(self, fd: int, buf: CappedBuffer) -> None:
        self.fd, self.buf = fd, buf
        self.loop = asyncio.get_running_loop()
        self.done: asyncio.Future[None] = self.loop.create_future()
        os.set_blocking(fd, False)
        self.loop.add_reader(fd, self._readable)

    def _readable(self) -> None:
        try:
            data = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            self.buf.feed(data)
        else:
            self.close()

    def close(self) -> None:
        if self.fd < 0:
            return
        self.loop.remove_reader(self.fd)
        os.close(self.fd)
        self.fd = -1
        if not self.done.done():
            self.done.set_result(None)


def _limits(memory_bytes: int | None):  # type: ignore[no-untyped-def]
    parent = os.getpid()

    def apply() -> None:  # runs in the child between fork and exec: keep it to syscalls
        _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before the line above: no signal comes
            os.kill(os.getpid(), signal.SIGKILL)
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
    # Our own pipes rather than asyncio's: asyncio's `wait()` also waits for the pipes to close,
    # so a background process holding them would make a finished command look hung.
    r_out, w_out = os.pipe()
    r_err, w_err = os.pipe()
    start = time.monotonic()
    try:
        proc = await asyncio.create_subprocess_exec(
            *command, cwd=cwd, env=dict(env), stdin=asyncio.subprocess.DEVNULL,
            stdout=w_out, stderr=w_err, start_new_session=True,
            preexec_fn=_limits(memory_bytes))
    except (FileNotFoundError, PermissionError) as exc:
        os.close(r_out)
        os.close(r_err)
        return ExecutionOutput(stdout="", stderr=str(exc), exit_code=127,
                               duration_s=time.monotonic() - start)
    finally:
        # the child holds its own copies; ours must go so the readers see EOF when it exits
        os.close(w_out)
        os.close(w_err)
    readers = [_PipeReader(r_out, out), _PipeReader(r_err, err)]
    timed_out = False
    try:
        await asyncio.wait_for(proc.wait(), timeout_s)
    except asyncio.TimeoutError:
        timed_out = True
    except asyncio.CancelledError:
        _kill_group(proc.pid)
        for reader in readers:
            reader.close()
        raise
    # Kill the group in every case: background processes the command left behind would
    # outlive the sandbox and hold its files.
    _kill_group(proc.pid)
    await proc.wait()
    # A process that left the group (setsid, possible without PID namespaces) may keep the
    # pipes open: read what is there for a grace period, then stop.
    await asyncio.wait([reader.done for reader in readers], timeout=drain_s)
    for reader in readers:
        reader.close()
    code = proc.returncode if proc.returncode is not None else -signal.SIGKILL
    return ExecutionOutput(stdout=out.text(), stderr=err.text(), exit_code=code,
                           timed_out=timed_out, duration_s=time.monotonic() - start)
