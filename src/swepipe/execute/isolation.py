"""What the operating system lets the sandbox isolate, probed once per process.

Levels, strongest first:

- `namespaces`: `unshare --mount --net --pid --fork --kill-child` (plus `--map-root-user` when
  not root). Inside, every mount is remounted read-only except the working copy and the
  sandbox's home, `/dev/shm` is a private tmpfs, and the command runs with an empty capability
  bounding set and `no_new_privs`, so it cannot remount anything writable again. There is no
  network device but a down loopback. The command is PID 1 of its namespace: when it exits or is
  killed every process it started dies with it, even ones that called `setsid`.
- `net`: `unshare --net` only (network cut; files writable wherever permissions allow).
- `none`: no isolation beyond the process group, limits and environment; used where
  unprivileged namespaces are disabled (e.g. some containers and CI runners).

`probe()` runs the real jail against a scratch directory and checks that a write outside fails
and that the network is gone, so a level is only reported when it demonstrably works.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Literal

Level = Literal["namespaces", "net", "none"]
LEVELS: tuple[Level, ...] = ("namespaces", "net", "none")

# $1 = the scratch dir S holding the working copy S/repo and the home S/home (resolved, as
# /proc/self/mounts spells it), the rest is the command. S is held at /mnt while a private
# tmpfs replaces /dev/shm, so S may itself live in /dev/shm (the fastest place to copy to).
_JAIL = r"""
set -e
S=$1; shift
mount --make-rprivate /
mount --bind "$S" /mnt
mount -t tmpfs -o size=256m,mode=1777 tmpfs /dev/shm || true
mkdir -p "$S/repo" "$S/home"
mount --bind /mnt/repo "$S/repo"
mount --bind /mnt/home "$S/home"
umount /mnt
while read -r _dev mp _type opts _rest; do
  case "$mp" in "$S/repo"|"$S/home"|/dev/shm) continue;; esac
  case ",$opts," in *,ro,*) continue;; esac
  mount -o remount,bind,ro "$mp" 2>/dev/null || true
done < /proc/self/mounts
cd "$S/repo"  # the inherited cwd may be the copy's path before the mounts above
exec setpriv --bounding-set=-all --inh-caps=-all --no-new-privs -- "$@"
"""


def _unshare_base() -> list[str]:
    return ["unshare"] + (["--map-root-user"] if os.geteuid() != 0 else [])


def wrap(level: Level, scratch: Path, command: list[str]) -> list[str]:
    """`command` wrapped for `level`. Under `namespaces` only `scratch/repo` (the working copy)
    and `scratch/home` stay writable."""
    if level == "namespaces":
        return (_unshare_base() + ["--mount", "--net", "--pid", "--fork", "--kill-child",
                                   "--mount-proc", "--", "sh", "-c", _JAIL, "jail",
                                   str(scratch.resolve())] + command)
    if level == "net":
        return _unshare_base() + ["--net", "--"] + command
    return command


_PROBE = r"""
import socket, sys
try:  # must not reach the host's file (read-only, or a private tmpfs that hides it)
    open(sys.argv[1], "w").write("escaped")
except OSError:
    pass
open(sys.argv[2], "w").write("ok")
try:
    socket.create_connection(("192.0.2.1", 9), timeout=1)  # TEST-NET address, never routed
    sys.exit(4)
except OSError as exc:
    sys.exit(0 if exc.errno in (101, 99, 113) else 5)  # unreachable: there is no network
"""


def _works_namespaces(python: str, scratch_root: str | None) -> bool:
    scratch = Path(tempfile.mkdtemp(prefix="swepipe-probe-", dir=scratch_root))
    try:
        work, outside = scratch / "repo", scratch / "outside"
        work.mkdir()
        (scratch / "home").mkdir()
        cmd = wrap("namespaces", scratch, [python, "-S", "-c", _PROBE, str(outside),
                                           str(work / "inside")])
        proc = subprocess.run(cmd, capture_output=True, timeout=30, check=False)
        return proc.returncode == 0 and not outside.exists() and (work / "inside").exists()
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


@functools.cache
def probe(python: str = "python3", scratch_root: str | None = None) -> Level:
    """The strongest level that works on this machine for working copies under
    `scratch_root` (cached for the process)."""
    if shutil.which("unshare") is None:
        return "none"
    if shutil.which("setpriv") and shutil.which("mount") and \
            _works_namespaces(python, scratch_root):
        return "namespaces"
    return "net" if _works_net(python) else "none"


def _works_net(python: str) -> bool:
    try:
        proc = subprocess.run(wrap("net", Path("."), [
            python, "-S", "-c",
            "import socket\ntry:\n socket.create_connection(('192.0.2.1', 9), timeout=1)\n"
            "except OSError as e:\n raise SystemExit(0 if e.errno in (101, 99, 113) else 5)\n"
            "raise SystemExit(4)"]), capture_output=True, timeout=30, check=False)
        return proc.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
