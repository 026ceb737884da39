"""`run_limited` under the commands' event loop while other threads open and close descriptors."""

import asyncio
import os
import sys
import threading
from pathlib import Path

import pytest

from swepipe import event_loop
from swepipe.execute.process import run_limited


def test_outputs_are_whole_on_uvloop_while_threads_open_and_close_descriptors(tmp_path: Path):
    # uvloop's pipe transports closed each output descriptor twice (strace: the second close
    # gets EBADF); a thread given that number in between (copying a working tree with `cp`)
    # lost it and its subprocess failed. The readers now close each descriptor once.
    pytest.importorskip("uvloop")
    errors: list[BaseException] = []
    stop = threading.Event()

    def churn_descriptors() -> None:  # a descriptor closed by someone else fails its close
        while not stop.is_set():
            r, w = os.pipe()
            try:
                os.close(r)
                os.close(w)
            except OSError as exc:
                errors.append(exc)

    async def many_commands() -> list[str]:
        runs = [run_limited(["sh", "-c", f"echo out-{i}; echo err-{i} >&2"], cwd=tmp_path,
                            env={"PATH": "/usr/bin:/bin"}, timeout_s=30, memory_bytes=None,
                            max_output_bytes=10_000) for i in range(100)]
        outs = []
        for chunk in range(0, len(runs), 20):  # 20 at a time, like a sandbox pool
            outs += await asyncio.gather(*runs[chunk:chunk + 20])
        return [o.stdout + o.stderr for o in outs]

    threads = [threading.Thread(target=churn_descriptors) for _ in range(2)]
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # let the threads run between any two of the loop's steps
    for t in threads:
        t.start()
    try:
        texts = event_loop.run(many_commands())
    finally:
        sys.setswitchinterval(switch)
        stop.set()
        for t in threads:
            t.join()
    assert errors == []
    assert texts == [f"out-{i}\nerr-{i}\n" for i in range(100)]
