"""Scratch directories for working copies, each tagged with the process that owns it, so the
copies of an owner that died without cleaning up (SIGKILL, OOM kill, power loss of a VM) are
removed by the next process that starts using the same scratch root.

Each process holds an exclusive `flock` on `swepipe-owner-<token>.lock` in the scratch root for
as long as it lives (the kernel drops it however the process dies) and names its directories
`swepipe-sbx-<token>-*`. A lock anyone can take belongs to a dead owner: its directories and
the lock file are removed. A lock rather than a pid: pids are reused, and processes in other
pid namespaces (containers sharing `/dev/shm`) have pids that mean nothing here.

Directories named the old way (`swepipe-sbx-<random>`, before owners were recorded) are left
alone: whether their owner is alive cannot be known.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import re
import secrets
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

from swepipe.execute.workcopy import remove_tree

_LOCK = re.compile(r"swepipe-owner-(?P<token>\d+x[0-9a-f]{8})\.lock")
_COPY = re.compile(r"swepipe-sbx-(?P<token>\d+x[0-9a-f]{8})-.+")

_owners: dict[tuple[int, str], str] = {}  # (pid, scratch root) -> this process's token there
_owner_fds: list[int] = []  # the held locks; never closed while the process lives
_guard = threading.Lock()


def _register(root: Path) -> str:
    """Create and lock this process's owner file in `root`; the lock file only appears under
    its final name once locked, so no other process can take it for a dead owner's."""
    token = f"{os.getpid()}x{secrets.token_hex(4)}"
    tmp = root / f".swepipe-owner-{token}.tmp"
    fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.rename(tmp, root / f"swepipe-owner-{token}.lock")
    _owner_fds.append(fd)
    atexit.register(_release, root, token, os.getpid())
    return token


def _release(root: Path, token: str, pid: int) -> None:
    """At a normal exit: drop the lock file when none of this owner's directories is left."""
    if os.getpid() != pid:  # a forked child exiting: the lock is its parent's
        return
    with contextlib.suppress(OSError):
        if not any((m := _COPY.fullmatch(n)) and m["token"] == token for n in os.listdir(root)):
            os.unlink(root / f"swepipe-owner-{token}.lock")


def owner_token(root: Path) -> str:
    """This process's token in `root`; the first call per process and root also removes the
    directories of dead owners there (`remove_stale`)."""
    key = (os.getpid(), str(root))  # a forked child is an owner of its own
    with _guard:
        if key not in _owners:
            remove_stale(root)
            _owners[key] = _register(root)
        return _owners[key]


def new_dir(root: Path, kind: str = "run") -> Path:
    """A fresh directory in `root` owned by this process (`kind` only helps a reader)."""
    return Path(tempfile.mkdtemp(prefix=f"swepipe-sbx-{owner_token(root)}-{kind}-", dir=root))


@contextlib.contextmanager
def _dead_owner(root: Path, token: str) -> Iterator[bool]:
    """True (holding its lock meanwhile) when the owner of `token` is dead."""
    try:
        fd = os.open(root / f"swepipe-owner-{token}.lock", os.O_RDONLY | os.O_CLOEXEC)
    except FileNotFoundError:  # its lock went first, so its owner is dead (see remove_stale)
        yield True
        return
    except OSError:  # another user's: not ours to judge
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # held: the owner lives (or another process is cleaning up after it)
            yield False
        else:
            yield True
    finally:
        os.close(fd)


def remove_stale(root: Path) -> list[Path]:
    """Remove the directories and lock files of dead owners in `root`; returns what went."""
    try:
        names = os.listdir(root)
    except OSError:
        return []
    tokens: dict[str, list[str]] = {}
    for name in names:
        if m := (_LOCK.fullmatch(name) or _COPY.fullmatch(name)):
            tokens.setdefault(m["token"], [])
            if name.startswith("swepipe-sbx-"):
                tokens[m["token"]].append(name)
    removed = []
    for token, copies in tokens.items():
        with _dead_owner(root, token) as dead:
            if not dead:
                continue
            # holding the dead owner's lock: no other cleaner works on it meanwhile; the lock
            # file goes last (an owner makes it before any copy)
            for name in copies:
                remove_tree(root / name)
                removed.append(root / name)
            with contextlib.suppress(FileNotFoundError):
                os.unlink(root / f"swepipe-owner-{token}.lock")
    return removed
