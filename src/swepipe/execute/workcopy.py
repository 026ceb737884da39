"""A fresh working copy per run: copy the repository, check and apply a patch, write files.

Copy methods (measured on a 866-file, 12 MB repository with its .git, 2 cores, ext4):

| method   | how                                          | ms/copy | notes                                  |
|----------|----------------------------------------------|---------|----------------------------------------|
| `cp`     | `cp -a --reflink=auto` (CoW where supported) | 65      | exact copy, uncommitted changes too    |
| `clone`  | `git clone --shared` then checkout           | 79      | objects shared read-only (alternates); |
|          |                                              |         | committed state only; .git not copied  |
| (rejected) `git worktree add`                   |         | 56      | writes into the source repo's .git:    |
|          |                                              |         | not safe for a read-only, shared repo  |
| (rejected) `cp -al` hardlinks                   |         | -       | in-place writes change the original    |
| (rejected) `shutil.copytree`                    |         | 103     | slower than cp                         |

`cp` is the default: fastest on small repositories and exact. `clone` wins when `.git` is much
bigger than the working tree (Django's .git is ~10x its tree): it never copies the object store.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from swepipe.errors import ExecutionError
from swepipe.patch.apply import ApplyResult, apply_diff
from swepipe.patch.safety import unsafe_files_reason, unsafe_reason

CopyMethod = Literal["cp", "clone"]


class PatchRejected(ExecutionError):
    """The patch or an extra file was refused before anything ran (`kind="unsafe"`), or the
    patch did not apply (`kind="apply_failed"`). A recorded outcome for a candidate, not a bug."""

    def __init__(self, kind: Literal["unsafe", "apply_failed"], reason: str,
                 which: str = "patch") -> None:
        super().__init__(f"{which} {kind.replace('_', ' ')}: {reason}")
        self.kind, self.reason, self.which = kind, reason, which

    @property
    def run_status(self) -> Literal["unsafe", "test_patch_failed", "apply_failed"]:
        """The gold-test run status this rejection records."""
        if self.kind == "unsafe":
            return "unsafe"
        return "test_patch_failed" if self.which == "test_patch" else "apply_failed"


def copy_repo(src: Path, dst: Path, method: CopyMethod = "cp") -> None:
    """Copy the repository at `src` to the (not yet existing) `dst`."""
    if method == "clone" and (src / ".git").exists():
        proc = subprocess.run(["git", "clone", "--quiet", "--shared", "--no-hardlinks",
                               str(src), str(dst)], capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            return
        raise ExecutionError(f"git clone of {src} failed: {proc.stderr.strip()[:500]}")
    proc = subprocess.run(["cp", "-a", "--reflink=auto", str(src), str(dst)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise ExecutionError(f"copying {src} failed: {proc.stderr.strip()[:500]}")


def check_inputs(repo: Path, patches: Mapping[str, str | None],
                 files: Mapping[str, str] | None) -> None:
    """Refuse unsafe patches and file paths, naming which; runs before any copy is made."""
    for which, diff in patches.items():
        if diff and (why := unsafe_reason(diff, repo)):
            raise PatchRejected("unsafe", why, which)
    if files and (why := unsafe_files_reason(files, repo)):
        raise PatchRejected("unsafe", why, "files")


def apply_patch(workdir: Path, diff: str, which: str = "patch") -> ApplyResult:
    """Apply `diff` in the copy; raise `PatchRejected` when no attempt applies it."""
    if why := unsafe_reason(diff, workdir):  # symlinks an earlier patch created count too
        raise PatchRejected("unsafe", why, which)
    result = apply_diff(workdir, diff)
    if not result.ok:
        raise PatchRejected("apply_failed", result.reason or "no attempt applied", which)
    return result


def write_files(workdir: Path, files: Mapping[str, str]) -> None:
    """Write extra files (repo-relative path -> text), re-checking paths against the copy."""
    if why := unsafe_files_reason(files, workdir):
        raise PatchRejected("unsafe", why, "files")
    for rel, text in files.items():
        path = workdir / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_symlink():  # replace an in-repo link rather than write through it
            path.unlink()
        path.write_text(text, encoding="utf-8")


def _open_unlocked(name: str | Path, dir_fd: int | None = None) -> int | None:
    """Give directory `name` owner rwx and return a read descriptor on it; None when `name` is
    not a directory (a symlink is never followed: it is opened as a path, not a target)."""
    try:
        pfd = os.open(name, os.O_PATH | os.O_NOFOLLOW | os.O_DIRECTORY, dir_fd=dir_fd)
    except OSError:
        return None
    try:  # chmod through the descriptor: it is the directory opened above, whatever the path
        via = f"/proc/self/fd/{pfd}"
        os.chmod(via, stat.S_IMODE(os.stat(pfd).st_mode) | stat.S_IRWXU)
        return os.open(via, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return None
    finally:
        os.close(pfd)


def _subdirs(fd: int) -> list[str]:
    try:
        with os.scandir(fd) as entries:
            return [e.name for e in entries if e.is_dir(follow_symlinks=False)]
    except OSError:
        return []


def _unlock_dirs(top: Path) -> None:
    """Make every directory under `top` (and `top`) owner-writable and -searchable, without
    touching files or following links: a run may leave read-only or unreadable folders."""
    if (fd := _open_unlocked(top)) is None:
        return
    stack = [(fd, _subdirs(fd))]  # depth first: one open descriptor per level
    try:
        while stack:
            fd, names = stack[-1]
            if not names:
                stack.pop()
                os.close(fd)
            elif (child := _open_unlocked(names.pop(), dir_fd=fd)) is not None:
                stack.append((child, _subdirs(child)))
    finally:
        for fd, _names in stack:
            os.close(fd)


def remove_tree(path: Path) -> None:
    """Remove a working copy even when the run left read-only folders in it. Never follows a
    symlink (shutil.rmtree does not; neither does making folders writable), so a link to a
    file outside cannot get that file changed."""
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        return
    except OSError:  # e.g. permission denied in a folder the run made read-only (non-root)
        _unlock_dirs(path)
        shutil.rmtree(path, ignore_errors=True)
