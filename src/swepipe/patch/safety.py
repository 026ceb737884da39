"""Refuse diffs and file writes that reach outside the repository, before anything runs.

A path is unsafe when it is absolute, has a `..` component, goes through `.git` (hooks and
config there run code), or resolves outside the working copy through a symlink already in
it. A diff that creates a symlink is unsafe when the link's target is absolute or climbs out.

Paths are read from every header git and `patch` act on (`diff --git`, `---`/`+++`,
`rename`/`copy from`/`to`, `Index:`), not from a parser's idea of the diff, so a header a parser
ignores but `patch` follows cannot slip through. The check is pure: it reads the working copy
(to resolve symlinks) and never writes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

_HEADER_PATH = re.compile(
    r"^(?:(?:---|\+\+\+) |(?:rename|copy) (?:from|to) |Index: |\*\*\* )(?P<path>.+?)(?:\t.*)?$")
_GIT_HEADER = re.compile(r'^diff --git (?P<a>"(?:[^"\\]|\\.)*"|\S+) (?P<b>"(?:[^"\\]|\\.)*"|\S+)$')
_SYMLINK_MODE = re.compile(r"^(?:new file mode|new mode) 120000$")


def _unquote(path: str) -> str:
    """Undo git's C-style quoting of unusual paths (`"a/caf\\303\\251.py"`)."""
    if len(path) >= 2 and path[0] == path[-1] == '"':
        raw = path[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
        return raw.encode("latin-1", "replace").decode("utf-8", "replace")
    return path


def _strip_prefix(path: str) -> str:
    return path[2:] if path[:2] in ("a/", "b/") else path


def diff_paths(diff: str) -> list[str]:
    """Every path the diff's headers name, prefixes `a/` and `b/` removed, `/dev/null` left out."""
    found: list[str] = []
    lines = diff.splitlines()
    for i, line in enumerate(lines):
        if m := _GIT_HEADER.match(line):
            found += [_strip_prefix(_unquote(m["a"])), _strip_prefix(_unquote(m["b"]))]
        elif m := _HEADER_PATH.match(line):
            # `--- x` followed by `+++ y` is a file header (a body line removing "-- x" that
            # happens to look the same is checked too: erring towards checking is safe).
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            prev = lines[i - 1] if i else ""
            if line.startswith("--- ") and not nxt.startswith("+++ ") \
                    and not prev.startswith("*** "):  # context diffs: `*** a` then `--- b`
                continue
            if line.startswith("+++ ") and not prev.startswith("--- "):
                continue
            path = _unquote(m["path"].strip())
            if path != "/dev/null":
                found.append(path if line.startswith(("rename", "copy", "Index")) else
                             _strip_prefix(path))
    return list(dict.fromkeys(found))


def unsafe_path_reason(path: str, root: Path | str) -> str | None:
    """Why writing repo-relative `path` inside `root` could reach outside it; None when safe."""
    if not path or "\x00" in path:
        return f"empty or NUL-containing path {path!r}"
    pure = PurePosixPath(path.replace("\\", "/"))
    if pure.is_absolute() or re.match(r"^[A-Za-z]:", path):
        return f"absolute path {path!r}"
    if ".." in pure.parts:
        return f"path {path!r} climbs out of the repository with '..'"
    if ".git" in pure.parts:
        return f"path {path!r} goes through .git"
    root = Path(root).resolve()
    # Resolve the deepest existing ancestor: a symlinked directory or file already in the
    # working copy that points outside would carry the write there.
    target = root.joinpath(*pure.parts)
    resolved = target.resolve()
    if resolved != root and root not in resolved.parents:
        return f"path {path!r} resolves outside the repository (to {resolved}) through a symlink"
    return None


def _symlink_reasons(diff: str) -> Iterable[str]:
    """Symlinks a diff creates: the target is the added line of the hunk after the mode line."""
    lines = diff.splitlines()
    for i, line in enumerate(lines):
        if not _SYMLINK_MODE.match(line):
            continue
        for body in lines[i + 1:]:
            if body.startswith("diff --git"):
                break
            if body.startswith("+") and not body.startswith("+++"):
                link = body[1:]
                if link.startswith("/") or ".." in PurePosixPath(link).parts:
                    yield f"diff creates a symlink to {link!r} outside the repository"
                break


def unsafe_reason(diff: str, root: Path | str) -> str | None:
    """The first reason `diff` must not be applied in the working copy `root`; None when safe."""
    for reason in _symlink_reasons(diff):
        return reason
    for path in diff_paths(diff):
        if reason := unsafe_path_reason(path, root):
            return reason
    return None


def unsafe_files_reason(paths: Iterable[str], root: Path | str) -> str | None:
    """The first reason one of the extra files to write is unsafe; None when all are safe."""
    for path in paths:
        if reason := unsafe_path_reason(path, root):
            return reason
    return None
