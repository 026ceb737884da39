"""Containers never outlive the swepipe process that started them.

Two mechanisms, because either alone leaves a gap:

- **Watchdog (immediate)**: the container's main process reads its stdin until EOF, and that
  stdin is a pipe held only by the owning swepipe process (through `docker run -i`, which
  closes the container's stdin when its client goes away). When swepipe dies, even by
  SIGKILL, the pipe closes, the main process exits, and the daemon removes the container
  (`--rm`), killing whatever still ran inside.
- **Reaper (next start)**: every container carries the label `swepipe.owner =
  <host>/<pid>/<process start time>`. The first Docker run of a process removes the containers
  whose owner on this host no longer exists (a daemon restart, or a kill between `docker run`
  and the watchdog taking over). The start time tells a reused pid from the owner.
"""

from __future__ import annotations

import functools
import os
import socket
import subprocess

OWNER_LABEL = "swepipe.owner"


def _start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            # field 22 (starttime, clock ticks since boot); the comm field before it may hold
            # spaces and parentheses, so split after its last ')'
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def owner_tag(pid: int | None = None) -> str:
    """This process's owner label value (`host/pid/start time`)."""
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}/{pid}/{_start_time(pid) or '?'}"


def owner_gone(tag: str) -> bool:
    """The process a label names is dead (only decidable for this host's processes)."""
    host, _, rest = tag.partition("/")
    pid, _, start = rest.partition("/")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    return _start_time(int(pid)) != start


def reap_orphans(docker: str = "docker") -> list[str]:
    """Remove containers whose swepipe owner on this host is gone; return their ids."""
    listing = subprocess.run(
        [docker, "ps", "-a", "--no-trunc", "--filter", f"label={OWNER_LABEL}",
         "--format", "{{.ID}}\t{{.Label \"" + OWNER_LABEL + "\"}}"],
        capture_output=True, text=True, timeout=60, check=False)
    if listing.returncode != 0:
        return []
    orphans = [cid for cid, _, tag in (line.partition("\t") for line in listing.stdout.split("\n")
                                        if line.strip()) if owner_gone(tag)]
    if orphans:
        subprocess.run([docker, "rm", "-f", *orphans], capture_output=True, timeout=120,
                       check=False)
    return orphans


@functools.cache
def reap_once(docker: str = "docker") -> list[str]:
    """`reap_orphans`, the first time a process asks (cached)."""
    return reap_orphans(docker)
