"""Escapes from the local sandbox (issue 15): host Unix sockets, jails outliving their owner,
and cleanup that follows symlinks. Real sockets, real owner processes SIGKILLed, a real
non-root uid."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import swepipe
from swepipe.execute.sandbox import LocalSandbox, SandboxConfig
from swepipe.execute.scratch import remove_stale

PY = sys.executable
SRC = str(Path(swepipe.__file__).resolve().parents[1])

_CONNECT = """
import json, socket, sys
seen = {}
for name, addr in json.loads(sys.argv[1]).items():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(2)
    try:
        s.connect(addr.replace("@", "\\0", 1) if addr.startswith("@") else addr)
        seen[name] = "connected"
    except OSError as exc:
        seen[name] = exc.strerror
    finally:
        s.close()
print(json.dumps(seen))
"""


def _listen(addr: str) -> socket.socket:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(addr.replace("@", "\0", 1) if addr.startswith("@") else addr)
    s.listen()
    return s


@pytest.fixture
def host_sockets(tmp_path: Path) -> Iterator[dict[str, str]]:
    """Listening sockets made outside the sandbox: name -> address (`@x` = abstract)."""
    tag = uuid.uuid4().hex[:12]
    want = {"tmp_dir": str(tmp_path / "host.sock"), "abstract": f"@swepipe-test-{tag}"}
    run_dir = Path("/var/run") if Path("/var/run").is_dir() else Path("/run")
    if os.access(run_dir, os.W_OK):
        want["var_run"] = str(run_dir / f"swepipe-test-{tag}.sock")
    made, listening = [], {}
    try:
        for name, addr in want.items():
            listening[name] = _listen(addr)
            made.append(addr)
        if "var_run" in want and Path("/run").is_dir():  # the other spelling of the same file
            other = str(Path("/run") / Path(want["var_run"]).name)
            if Path(other).exists():
                want["run"] = other
        if Path("/var/run/docker.sock").exists():  # a daemon's, if one runs here
            want["docker"] = "/var/run/docker.sock"
        yield want
    finally:
        for s in listening.values():
            s.close()
        for addr in made:
            if not addr.startswith("@"):
                Path(addr).unlink(missing_ok=True)


async def test_host_unix_sockets_cannot_be_reached_from_inside(sandbox: LocalSandbox,
                                                               repo: Path, host_sockets):
    if sandbox.level != "namespaces":
        pytest.skip(f"isolation level {sandbox.level} does not hide sockets (docs/execution.md)")
    # outside, each address works: the refusals inside are the jail's doing
    outside = subprocess.run([PY, "-c", _CONNECT, json.dumps(host_sockets)],
                             capture_output=True, text=True, check=True)
    reachable = {n for n, r in json.loads(outside.stdout).items() if r == "connected"}
    assert reachable >= set(host_sockets) - {"docker"}
    out = await sandbox.run(repo, [PY, "-c", _CONNECT, json.dumps(host_sockets)])
    assert out.exit_code == 0, out.stderr
    inside = json.loads(out.stdout)
    assert set(inside) == set(host_sockets)
    assert [n for n, r in inside.items() if r == "connected"] == []


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    stat = _read(f"/proc/{pid}/stat")  # a zombie has died; it only waits to be reaped
    return bool(stat) and stat.rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")


def _ppid(pid: int) -> int:
    stat = _read(f"/proc/{pid}/stat")
    return int(stat.rsplit(b")", 1)[1].split()[1]) if stat else 0


def _pid_ns(pid: int | str) -> str:
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return ""


def _pids() -> list[int]:
    return [int(e) for e in os.listdir("/proc") if e.isdigit()]


def _wait_for(what, deadline_s: float, step_s: float = 0.05):  # type: ignore[no-untyped-def]
    """Poll `what()` until it returns something truthy or the deadline passes."""
    end = time.monotonic() + deadline_s
    while not (found := what()) and time.monotonic() < end:
        time.sleep(step_s)
    return found


_OWNER = """
import asyncio, sys
from pathlib import Path
from swepipe.execute.sandbox import LocalSandbox, SandboxConfig
sandbox = LocalSandbox(SandboxConfig(scratch_dir=Path(sys.argv[1]), isolation=sys.argv[2],
                                     memory_mb=None))
asyncio.run(sandbox.run(Path(sys.argv[3]), ["sh", "-c", sys.argv[4], sys.argv[5]],
                        timeout_s=float(sys.argv[6])))
"""


class _Owner:
    """A Python process running one sandbox command; finds the jail's processes in /proc."""

    def __init__(self, scratch: Path, level: str, repo: Path, script: str,
                 timeout_s: float) -> None:
        self.marker = f"swepipe-owner-{uuid.uuid4().hex}"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH",
                                                                                 "")])}
        self.proc = subprocess.Popen([PY, "-c", _OWNER, str(scratch), level, str(repo), script,
                                      self.marker, str(timeout_s)], env=env)
        self.launcher = self.jail_ns = None

    def find_jail(self, running: bytes) -> bool:
        """True once a process of the jail has the command line `running`."""
        ours = _pid_ns("self")
        for pid in _pids():
            if self.marker.encode() not in _read(f"/proc/{pid}/cmdline"):
                continue
            if _pid_ns(pid) == ours and _ppid(pid) == self.proc.pid:
                self.launcher = pid  # `unshare`, the owner's child
            elif _pid_ns(pid):
                self.jail_ns = _pid_ns(pid)
        return bool(self.jail_ns and self.launcher) and any(
            _read(f"/proc/{p}/cmdline") == running and _pid_ns(p) == self.jail_ns
            for p in _pids())

    def survivors(self) -> list[int]:
        return [p for p in _pids() if (p == self.launcher or _pid_ns(p) == self.jail_ns)
                and _alive(p)]

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()

    def cleanup(self) -> None:  # on the old code the jail survives: kill what this test made
        if self.proc.poll() is None:
            self.kill()
        for pid in self.survivors() if self.jail_ns else []:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
def owners(sandbox: LocalSandbox, repo: Path, tmp_path: Path) -> Iterator:  # type: ignore[type-arg]
    """Starts owners running sandbox commands in one scratch root; kills what is left after."""
    if sandbox.level != "namespaces":
        pytest.skip(f"isolation level {sandbox.level}: only the launched process dies with "
                    "its owner (docs/execution.md)")
    started: list[_Owner] = []
    (tmp_path / "scratch").mkdir()

    def start(script: str, timeout_s: float) -> _Owner:
        started.append(_Owner(tmp_path / "scratch", "namespaces", repo, script, timeout_s))
        return started[-1]

    yield start
    for owner in started:
        owner.cleanup()


def test_jail_dies_with_its_killed_owner(owners):
    victim = owners("sleep 181 & sleep 182", timeout_s=10)
    assert _wait_for(lambda: victim.find_jail(b"sleep\x00182\x00"), 30)
    assert _read(f"/proc/{victim.launcher}/cmdline").startswith(b"unshare\x00")
    victim.kill()
    assert _wait_for(lambda: not victim.survivors(), 10), victim.survivors()


def test_a_killed_owners_copy_goes_at_the_next_start_a_living_owners_stays(
        owners, repo: Path, tmp_path: Path):
    scratch = tmp_path / "scratch"
    victim = owners("sleep 181 & sleep 182", timeout_s=10)
    living = owners("sleep 183", timeout_s=120)
    assert _wait_for(lambda: victim.find_jail(b"sleep\x00182\x00"), 30)
    assert _wait_for(lambda: living.find_jail(b"sleep\x00183\x00"), 30)
    before = sorted(p.name for p in scratch.iterdir() if p.is_dir())
    assert len(before) == 2  # one working copy per owner
    victim.kill()
    victim.cleanup()  # independent of the jail dying by itself (the test above)
    assert _wait_for(lambda: not victim.survivors(), 10), victim.survivors()
    assert living.survivors()  # killing one owner takes nothing else down
    # the victim's copy is still there; the next sandbox to start here removes it
    assert sorted(p.name for p in scratch.iterdir() if p.is_dir()) == before
    fresh = LocalSandbox(SandboxConfig(scratch_dir=scratch, isolation="namespaces"))
    assert asyncio.run(fresh.run(repo, ["true"])).exit_code == 0
    left = sorted(p.name for p in scratch.iterdir() if p.is_dir())
    assert len(left) == 1 and left[0] in before  # the living owner's copy stays
    lock_tokens = {p.name.split("-")[2].split(".")[0] for p in scratch.glob("*.lock")}
    assert left[0].split("-")[2] in lock_tokens and len(lock_tokens) == 2  # living + us


# imports first (the interpreter may live where the throwaway uid cannot read), then drop root
_REMOVE_AS = """
import os, sys
from pathlib import Path
from swepipe.execute.workcopy import remove_tree
uid = int(sys.argv[2])
if os.geteuid() != uid:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
assert os.geteuid() != 0
remove_tree(Path(sys.argv[1]))
"""


@pytest.fixture
def user_dir() -> Iterator[tuple[Path, int]]:
    """A directory owned by a throwaway non-root uid (not under tmp_path: that is root-only)."""
    uid = 61_234 if os.geteuid() == 0 else os.geteuid()
    base = Path(tempfile.mkdtemp(prefix="swepipe-test-links-"))
    os.chown(base, uid, uid)
    base.chmod(0o755)
    try:
        yield base, uid
    finally:
        for path in [base, *base.rglob("*")]:  # as root again: make sure it all goes
            if path.is_dir() and not path.is_symlink():
                path.chmod(0o700)
        shutil.rmtree(base, ignore_errors=True)


def _remove_as(uid: int, tree: Path) -> subprocess.CompletedProcess[str]:
    for path in [tree, *tree.rglob("*")]:
        os.lchown(path, uid, uid)
    return subprocess.run([PY, "-c", _REMOVE_AS, str(tree), str(uid)],
                          env={**os.environ, "PYTHONPATH": SRC}, capture_output=True,
                          text=True, check=False)


def test_cleanup_as_non_root_never_follows_a_symlink_out(user_dir):
    base, uid = user_dir
    outside = base / "outside.txt"
    outside.write_text("precious\n")
    os.chown(outside, uid, uid)  # the user's own file: a followed chmod would succeed
    outside.chmod(0o640)
    tree = base / "tree"
    for ro, target in [(tree / "ro1", outside), (tree / "ro2", base)]:
        ro.mkdir(parents=True)
        (ro / "link").symlink_to(target)
        ro.chmod(0o555)  # what a run may leave: a read-only folder
    proc = _remove_as(uid, tree)
    assert oct(outside.stat().st_mode & 0o7777) == oct(0o640)
    assert oct(base.stat().st_mode & 0o7777) == oct(0o755)
    assert outside.read_text() == "precious\n"
    assert proc.returncode == 0 and not tree.exists(), proc.stderr


def test_cleanup_as_non_root_removes_unreadable_folders(user_dir):
    base, uid = user_dir
    tree = base / "tree"
    (tree / "ro/locked/deeper").mkdir(parents=True)
    (tree / "ro/locked/deeper/f.txt").write_text("x")
    (tree / "ro/locked/deeper").chmod(0o500)
    (tree / "ro/locked").chmod(0)
    (tree / "ro").chmod(0o555)
    proc = _remove_as(uid, tree)
    assert proc.returncode == 0 and not tree.exists(), proc.stderr


def test_stale_removal_keeps_copies_it_cannot_judge_and_removes_lockless_ones(tmp_path: Path):
    legacy = tmp_path / "swepipe-sbx-k3j4h5g6"  # named before owners were recorded
    orphan = tmp_path / "swepipe-sbx-123x0123abcd-run-zz"  # its owner's lock already went
    other = tmp_path / "unrelated"
    for d in (legacy, orphan, other):
        (d / "sub").mkdir(parents=True)
    assert remove_stale(tmp_path) == [orphan]
    assert legacy.exists() and other.exists() and not orphan.exists()
