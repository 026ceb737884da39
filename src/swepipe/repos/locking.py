"""Build-once directories shared by tasks and processes (checkouts, indexes).

A directory is built in a private temporary sibling and renamed into place, so a reader sees
nothing or the whole thing. An advisory lock file (`fcntl.flock`) around the build makes a second
process or task wait for the first instead of doing the same work twice; `flock` locks belong to
an open file description, so two threads of one process exclude each other as well. If a lock
cannot be taken (a filesystem without flock), the atomic rename alone still keeps results whole.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shutil
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on `path` (created if needed) while inside the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        except OSError:  # e.g. some network filesystems: fall back to the rename alone
            yield
            return
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _tmp_for(final: Path) -> Path:
    tmp = final.parent / f".{final.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir(parents=True)
    return tmp


def _publish(tmp: Path, final: Path) -> None:
    try:
        os.rename(tmp, final)
    except OSError:
        if not final.exists():
            raise
        shutil.rmtree(tmp, ignore_errors=True)  # lost a race without a lock: use theirs


def build_dir_once(final: Path, build: Callable[[Path], None]) -> Path:
    """Return `final`, calling `build(tmp)` to create it when it does not exist yet.

    `build` fills an empty temporary directory; on success it is renamed to `final`. On failure
    the temporary directory is removed and the error propagates; `final` is never half-written.
    """
    if final.exists():
        return final
    with file_lock(final.parent / f".{final.name}.lock"):
        if final.exists():  # another process built it while we waited
            return final
        tmp = _tmp_for(final)
        try:
            build(tmp)
            _publish(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return final


async def build_dir_once_async(final: Path,
                               build: Callable[[Path], Awaitable[None]]) -> Path:
    """`build_dir_once` for an async `build` (e.g. one that calls a served embedder).

    The lock is taken in a worker thread so that waiting for another builder never blocks the
    event loop; `flock` is not bound to a thread, so releasing it from the loop is fine."""
    if final.exists():
        return final
    lock = contextlib.ExitStack()
    acquire = asyncio.ensure_future(asyncio.to_thread(
        lock.enter_context, file_lock(final.parent / f".{final.name}.lock")))
    try:
        await asyncio.shield(acquire)
    except asyncio.CancelledError:
        # The thread keeps waiting for the lock; release it as soon as it is ours.
        acquire.add_done_callback(lambda _: lock.close())
        raise
    try:
        if final.exists():
            return final
        tmp = _tmp_for(final)
        try:
            await build(tmp)
            _publish(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    finally:
        lock.close()
    return final
