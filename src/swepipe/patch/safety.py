"""Refuse diffs and file writes that reach outside the repository, before anything runs.

A path is unsafe when it is absolute, has a `..` component, goes through `.git` (hooks and
config there run code), or resolves outside the working copy through a symlink already in
it. A diff is unsafe when it creates, changes, copies or removes a symlink, whatever the link's
target: a relative target changes meaning when a link moves, and reading the target out of a
hunk is one more parser that could disagree with git's. Model-written fixes do not need links.

Lines are split on `\\n` only and mode lines are read the way `git apply` reads them (any
`old/new/new file/deleted file mode` or `index` line, `strtoul` base 8: leading blanks, a sign
and leading zeros allowed, anything after the digits ignored; a symlink is any mode whose type
bits are 0120000). Paths are read from every header git and `patch` act on (`diff --git`,
`---`/`+++`, `rename`/`copy from`/`to`, `Index:`), not from a parser's idea of the diff, so a
header a parser ignores but `patch` follows cannot slip through. The check is pure: it reads the
working copy (to resolve symlinks) and never writes.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path, PurePosixPath

_HEADER_PATH = re.compile(
    r"^(?:(?:---|\+\+\+) |(?:rename|copy) (?:from|to) |Index: |\*\*\* )(?P<path>.+?)(?:\t.*)?$")
_GIT_HEADER = re.compile(r'^diff --git (?P<a>"(?:[^"\\]|\\.)*"|\S+) (?P<b>"(?:[^"\\]|\\.)*"|\S+)$')
# git matches these header names as prefixes (with their space) and hands the rest to strtoul;
# for `index <old>..<new> <mode>` the mode starts after the first space that follows `..`.
_MODE_LINE = re.compile(r"^(?:(?:old|new|new file|deleted file) mode |index [^.]*\.\.[^ ]* )"
                        r"(?P<mode>.*)$")
_STRTOUL_OCTAL = re.compile(r"[ \t\n\v\f\r]*(?P<sign>[+-]?)(?P<digits>[0-7]+)")
_ULONG_MAX = 2**64 - 1


def _lines(diff: str) -> list[str]:
    """The diff's lines as git sees them: split on `\\n` only (not on `\\f`, `\\x85`, U+2028 as
    `str.splitlines` does), a CR before the newline dropped."""
    return [line.removesuffix("\r") for line in diff.split("\n")]


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
    lines = _lines(diff)
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


def git_mode(text: str) -> int | None:
    """The mode `git apply` reads from the text after a mode header (C `strtoul(text, 8)` stored
    in an unsigned int); None when it holds no octal digits."""
    m = _STRTOUL_OCTAL.match(text)
    if not m:
        return None
    value = int(m["digits"], 8)
    if value > _ULONG_MAX:
        value = _ULONG_MAX  # strtoul saturates, sign or not
    elif m["sign"] == "-":
        value = -value % 2**64
    return value & 0xFFFFFFFF


def _symlink_mode_lines(diff: str) -> Iterator[str]:
    """Header lines whose mode is a symlink's (wherever they stand: over-reading is safe)."""
    for line in _lines(diff):
        if (m := _MODE_LINE.match(line)) and (mode := git_mode(m["mode"])) is not None \
                and stat.S_IFMT(mode) == stat.S_IFLNK:
            yield line


def _pure(path: str) -> PurePosixPath:
    """`path` split on backslashes too, so that `..\\x` cannot slip past the checks."""
    return PurePosixPath(path.replace("\\", "/"))


def unsafe_path_reason(path: str, root: Path | str) -> str | None:
    """Why writing repo-relative `path` inside `root` could reach outside it; None when safe."""
    if not path or "\x00" in path:
        return f"empty or NUL-containing path {path!r}"
    pure = _pure(path)
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


def unsafe_reason(diff: str, root: Path | str) -> str | None:
    """The first reason `diff` must not be applied in the working copy `root`; None when safe."""
    for line in _symlink_mode_lines(diff):
        return f"diff creates or changes a symlink ({line!r}); diffs with symlinks are refused"
    paths = diff_paths(diff)
    for path in paths:
        if reason := unsafe_path_reason(path, root):
            return reason
    for path in paths:
        # A diff without mode lines still rewrites (or copies, or renames) an existing link
        # as a link: git keeps the file's mode.
        if Path(root).joinpath(*_pure(path).parts).is_symlink():
            return f"diff touches {path!r}, a symlink in the working copy; diffs with symlinks " \
                   "are refused"
    return None


def unsafe_files_reason(paths: Iterable[str], root: Path | str) -> str | None:
    """The first reason one of the extra files to write is unsafe; None when all are safe."""
    for path in paths:
        if reason := unsafe_path_reason(path, root):
            return reason
    return None
