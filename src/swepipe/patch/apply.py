"""Apply diffs to a working copy, and make diffs from edited file contents.

`apply_diff` tries, in order, what the SWE-bench harness tries, each attempt atomic:

1. `git apply --verbose`
2. `git apply --verbose --recount --ignore-whitespace` (hunk counts and whitespace of models'
   diffs are often slightly off)
3. `patch --batch --fuzz=5 -p1` (after a `--dry-run` succeeded, so a failure changes nothing)

The harness also tries `git apply --reject`; we do not, because it applies the hunks that fit and
leaves the rest as `.rej` files: a half-applied candidate is a different candidate. `--3way` needs
the blobs the diff was made against, which a model's diff does not have.

Call `safety.unsafe_reason` first: this module assumes the diff's paths were checked.
"""

from __future__ import annotations

import difflib
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

_ATTEMPTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("git_apply", ("git", "apply", "--verbose")),
    ("git_apply_lenient", ("git", "apply", "--verbose", "--recount", "--ignore-whitespace")),
    ("patch_fuzz", ("patch", "--batch", "--fuzz=5", "-p1", "--forward", "--no-backup-if-mismatch",
                    "--reject-file=-")),
)


@dataclass(frozen=True)
class ApplyResult:
    """Which attempt applied the diff, or why none did."""

    ok: bool
    method: str | None
    """`git_apply`, `git_apply_lenient`, `patch_fuzz`; None when nothing applied."""
    reason: str | None = None
    """The failed attempts' output (truncated) when `ok` is False."""
    attempts: tuple[str, ...] = field(default_factory=tuple)
    """Names of the attempts tried, in order."""


def _git_env(workdir: Path) -> dict[str, str]:
    # A working copy without its own .git inside another repository would make `git apply`
    # resolve paths against the outer repository and silently skip files; the ceiling stops
    # git's discovery at the working copy's parent.
    env = dict(os.environ)
    if not (workdir / ".git").exists():
        env["GIT_CEILING_DIRECTORIES"] = str(workdir.resolve().parent)
    return env


def _run(args: tuple[str, ...], workdir: Path, diff: str, env: dict[str, str],
         timeout_s: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=workdir, input=diff, capture_output=True, text=True,
                          env=env, timeout=timeout_s, check=False)


def apply_diff(workdir: Path | str, diff: str, *, timeout_s: float = 60.0) -> ApplyResult:
    """Apply `diff` in `workdir` with the first attempt that works; never half-applies."""
    workdir = Path(workdir)
    if not diff.strip():
        return ApplyResult(ok=True, method=None, reason="empty diff: nothing to apply")
    if not diff.endswith("\n"):
        diff += "\n"  # git apply reports a corrupt patch when the last line has no newline
    env = _git_env(workdir)
    errors: list[str] = []
    tried: list[str] = []
    for name, args in _ATTEMPTS:
        tried.append(name)
        try:
            if name == "patch_fuzz":
                dry = _run(args + ("--dry-run",), workdir, diff, env, timeout_s)
                if dry.returncode != 0:
                    errors.append(f"{name}: {(dry.stdout + dry.stderr).strip()[:800]}")
                    continue
            proc = _run(args, workdir, diff, env, timeout_s)
        except FileNotFoundError as exc:  # `patch` not installed
            errors.append(f"{name}: {exc}")
            continue
        except subprocess.TimeoutExpired:
            errors.append(f"{name}: timed out after {timeout_s}s")
            continue
        if proc.returncode == 0:
            return ApplyResult(ok=True, method=name, attempts=tuple(tried))
        errors.append(f"{name}: {(proc.stdout + proc.stderr).strip()[:800]}")
    return ApplyResult(ok=False, method=None, reason="\n".join(errors), attempts=tuple(tried))


def _file_diff(path: str, before: str | None, after: str | None, context: int) -> str:
    if before == after:
        return ""
    a_lines = before.splitlines(keepends=True) if before else []
    b_lines = after.splitlines(keepends=True) if after else []
    header = [f"diff --git a/{path} b/{path}\n"]
    if before is None:
        header.append("new file mode 100644\n")
    elif after is None:
        header.append("deleted file mode 100644\n")
    fromfile = "/dev/null" if before is None else f"a/{path}"
    tofile = "/dev/null" if after is None else f"b/{path}"
    body = list(difflib.unified_diff(a_lines, b_lines, fromfile, tofile, n=context))
    if not body:  # e.g. an empty file created or deleted: git needs only the header
        return "".join(header)
    # difflib writes `--- a/x\n`; its hunk lines keep the file's own endings, so a last line
    # without a newline gets git's marker.
    out = header + [line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"
                    for line in body]
    return "".join(out)


def make_diff(before: Mapping[str, str | None], after: Mapping[str, str | None], *,
              context: int = 3) -> str:
    """A git-style diff turning `before` into `after` (repo-relative path -> text).

    None (or a missing key) means the file does not exist on that side: a path only in `after`
    is a new file, one mapped to None in `after` is deleted. The output applies with
    `git apply` and with `patch -p1`; files are in sorted order so equal edits give equal diffs.
    """
    paths = sorted(set(before) | set(after))
    return "".join(_file_diff(p, before.get(p), after.get(p), context) for p in paths)


def diff_workdir(workdir: Path | str, *, timeout_s: float = 60.0) -> str:
    """`git diff` of a git working copy against its HEAD, including untracked files."""
    workdir = Path(workdir)
    env = _git_env(workdir)
    # intent-to-add makes untracked files show up as new files without staging their content
    subprocess.run(["git", "add", "-A", "--intent-to-add"], cwd=workdir, env=env,
                   capture_output=True, check=True, timeout=timeout_s)
    proc = subprocess.run(["git", "diff", "--no-color", "--no-ext-diff", "HEAD"], cwd=workdir,
                          env=env, capture_output=True, text=True, check=True, timeout=timeout_s)
    return proc.stdout
