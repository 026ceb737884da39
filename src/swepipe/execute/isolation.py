"""What the operating system lets the sandbox isolate, probed once per process.

Levels, strongest first:

- `namespaces`: `unshare --mount --net --pid --fork --kill-child` (plus `--map-root-user` when
  not root). Inside, every mount is remounted read-only except the working copy and the
  sandbox's home, `/dev/shm` and `/run` are private tmpfs, and the command runs with an empty
  capability bounding set and `no_new_privs`, so it cannot remount anything writable again.
  There is no network device but a down loopback. The command is PID 1 of its namespace: when
  it exits or is killed every process it started dies with it, even ones that called `setsid`.
  Host Unix sockets are out of reach (`connect()` ignores read-only mounts, so hiding is the
  only defence): the runtime directories (`RUNTIME_DIRS`: `/run`, which `/var/run` points to,
  X11's `/tmp/.X11-unix`, ...) are covered by an empty tmpfs, every other socket bound in the
  host's network namespace (listed in `/proc/net/unix`) gets `/dev/null` mounted over it, and
  abstract sockets belong to a network namespace, so the jail's own has none of the host's.
- `net`: `unshare --net` only (network and abstract sockets cut; files writable wherever
  permissions allow, pathname sockets reachable).
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

from swepipe.execute import scratch as scratch_dirs

Level = Literal["namespaces", "net", "none"]
LEVELS: tuple[Level, ...] = ("namespaces", "net", "none")

# Directories that hold only runtime state and sockets (daemons' API sockets live here: Docker,
# containerd, D-Bus, systemd, X11, ...); each gets an empty tmpfs inside the jail.
RUNTIME_DIRS = ("/run", "/var/run", "/tmp/.X11-unix", "/tmp/.ICE-unix", "/tmp/.XIM-unix",
                "/tmp/.font-unix")

# $1 = the scratch dir S holding the working copy S/repo and the home S/home (resolved, as
# /proc/self/mounts spells it), $2 = how many paths to hide follow (directories get an empty
# tmpfs, sockets /dev/null on top), then the command. S is held at /mnt while tmpfs replace
# /dev/shm and /run, so S may itself live there (/dev/shm is the fastest place to copy to).
# Hiding fails closed: `set -e` stops the jail before the command runs.
_JAIL = r"""
set -e
S=$1; n=$2; shift 2
mount --make-rprivate /
mount --bind "$S" /mnt
if [ -d /dev/shm ]; then mount -t tmpfs -o size=256m,mode=1777 tmpfs /dev/shm; fi
while [ "$n" -gt 0 ]; do
  if [ -d "$1" ]; then mount -t tmpfs -o size=16m,mode=1777 tmpfs "$1"
  elif [ -S "$1" ]; then mount --bind /dev/null "$1"; fi
  shift; n=$((n - 1))
done
mkdir -p "$S/repo" "$S/home"
mount --bind /mnt/repo "$S/repo"
mount --bind /mnt/home "$S/home"
umount /mnt
while read -r _dev mp _type opts _rest; do
  case "$mp" in "$S/repo"|"$S/home"|/dev/shm|/run) continue;; esac
  case ",$opts," in *,ro,*) continue;; esac
  mount -o remount,bind,ro "$mp" 2>/dev/null || true
done < /proc/self/mounts
cd "$S/repo"  # the inherited cwd may be the copy's path before the mounts above
exec setpriv --bounding-set=-all --inh-caps=-all --no-new-privs -- "$@"
"""


def host_sockets(table: str = "/proc/net/unix") -> list[str]:
    """Paths of the pathname Unix sockets bound in this network namespace (abstract ones,
    `@name`, and unnamed ones are left out: a new network namespace already hides them)."""
    try:
        with open(table, encoding="utf-8", errors="surrogateescape") as f:
            rows = f.read().splitlines()[1:]
    except OSError:
        return []
    # columns: Num RefCount Protocol Flags Type St Inode Path (the path may contain spaces)
    paths = {cols[7] for row in rows if len(cols := row.split(None, 7)) == 8}
    return sorted(p for p in paths if p.startswith("/"))


def hidden_paths() -> list[str]:
    """What the jail hides: the runtime directories present here, then every host socket
    outside them (and outside /dev/shm, a private tmpfs anyway)."""
    dirs = [d for d in RUNTIME_DIRS if os.path.isdir(d) and not os.path.islink(d)]
    covered = [os.path.realpath(d) for d in dirs] + [os.path.realpath("/dev/shm")]

    def is_covered(sock: str) -> bool:
        parent = os.path.realpath(os.path.dirname(sock))
        return any(parent == c or parent.startswith(c + "/") for c in covered)

    return dirs + [s for s in host_sockets() if not is_covered(s)]


def _unshare_base() -> list[str]:
    return ["unshare"] + (["--map-root-user"] if os.geteuid() != 0 else [])


def wrap(level: Level, scratch: Path, command: list[str]) -> list[str]:
    """`command` wrapped for `level`. Under `namespaces` only `scratch/repo` (the working copy)
    and `scratch/home` stay writable, and host sockets are hidden (`hidden_paths`, read now)."""
    if level == "namespaces":
        hide = hidden_paths()
        return (_unshare_base() + ["--mount", "--net", "--pid", "--fork", "--kill-child",
                                   "--mount-proc", "--", "sh", "-c", _JAIL, "jail",
                                   str(scratch.resolve()), str(len(hide)), *hide] + command)
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
    scratch = scratch_dirs.new_dir(Path(scratch_root or tempfile.gettempdir()), "probe")
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
