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
import weakref
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
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


_LOCK_WAITERS = ThreadPoolExecutor(max_workers=64, thread_name_prefix="swepipe-lock")

_task_locks: weakref.WeakValueDictionary[tuple[int, str], asyncio.Lock] = \
    weakref.WeakValueDictionary()


async def build_dir_once_async(final: Path,
                               build: Callable[[Path], Awaitable[None]]) -> Path:
    """`build_dir_once` for an async `build` (e.g. one that calls a served embedder).

    Tasks of one process queue on an asyncio lock, so at most one of them waits for the file
    lock in a worker thread: were every task to block a thread on `flock`, the default executor
    (few threads on a small machine) could have none left for the builder itself. The file lock
    is taken in a thread so waiting never blocks the loop; `flock` is not bound to a thread."""
    if final.exists():
        return final
    key = (id(asyncio.get_running_loop()), str(final))
    task_lock = _task_locks.get(key)
    if task_lock is None:
        task_lock = _task_locks[key] = asyncio.Lock()
    async with task_lock:
        return await _build_async_locked(final, build)


async def _build_async_locked(final: Path, build: Callable[[Path], Awaitable[None]]) -> Path:
    if final.exists():
        return final
    lock = contextlib.ExitStack()
    # waiting for the lock happens on threads of its own: on the default executor, waiters could
    # take every thread while the holder's build needs one for its git commands (a deadlock)
    acquire = asyncio.ensure_future(asyncio.get_running_loop().run_in_executor(
        _LOCK_WAITERS, lock.enter_context, file_lock(final.parent / f".{final.name}.lock")))
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
