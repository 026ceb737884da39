"""The normalized form of a patch, used to vote: two edits that differ only in noise are equal.

For Python files both the original and the edited text are parsed and unparsed (`ast.unparse`),
which drops comments, blank lines and formatting; docstrings are removed first. The normalized
diff is the diff between those two normal forms, so an edit that only touches comments,
docstrings or blank lines normalizes to nothing. Other files (and Python that does not parse) fall
back to whitespace normalization: runs of whitespace collapse to one space, lines are stripped,
blank lines dropped.

This follows Agentless' `normalize_patch`; unlike it, files are read from the repository
checkout the patch was made against, and the result is a diff with sorted files.
"""

from __future__ import annotations

import ast
import hashlib
import re
from pathlib import Path

from swepipe.errors import InputError
from swepipe.patch.apply import make_diff
from swepipe.patch.diff import apply_to_texts, parse_diff

_PY_SUFFIXES = (".py", ".pyi")
_DOC_OWNERS = (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)


def _strip_docstrings(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        if not isinstance(node, _DOC_OWNERS) or not node.body:
            continue
        first = node.body[0]
        if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)):
            # keep the body non-empty so the unparsed code stays valid
            node.body = node.body[1:] or [ast.Pass()]


def normalize_text(text: str) -> str:
    """Whitespace normalization: collapse runs of spaces/tabs, strip lines, drop blank lines."""
    lines = (re.sub(r"\s+", " ", line).strip() for line in text.splitlines())
    return "".join(line + "\n" for line in lines if line)


def normalize_python(source: str) -> str:
    """Python without comments, docstrings, blank lines or formatting (ast round trip).

    Falls back to `normalize_text` when the source does not parse, so broken edits still vote
    against each other by their text.
    """
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):  # ValueError: source with NUL bytes
        return normalize_text(source)
    _strip_docstrings(tree)
    return ast.unparse(tree) + "\n"


def normalize_file(path: str, text: str | None) -> str | None:
    """The normal form of one file's text, chosen by its suffix; None stays None (absent)."""
    if text is None:
        return None
    return normalize_python(text) if path.endswith(_PY_SUFFIXES) else normalize_text(text)


def normalized_diff(before: dict[str, str | None], after: dict[str, str | None]) -> str:
    """Diff between the normal forms of `before` and `after` (path -> text, None = absent)."""
    paths = set(before) | set(after)
    nb = {p: normalize_file(p, before.get(p)) for p in paths}
    na = {p: normalize_file(p, after.get(p)) for p in paths}
    return make_diff(nb, na)


def _read(repo_dir: Path, path: str) -> str | None:
    file = repo_dir / path
    if not file.is_file():
        return None
    return file.read_text(encoding="utf-8", errors="surrogateescape")


def normalize_diff_text(diff: str) -> str:
    """A fallback for diffs that cannot be applied in memory: the diff's own changed lines,
    whitespace-normalized, with hunk positions and index lines removed."""
    keep = []
    for line in diff.splitlines():
        if line.startswith(("index ", "@@")):
            continue
        if line[:1] in "+-" and not line.startswith(("+++", "---")):
            body = re.sub(r"\s+", " ", line[1:]).strip()
            if body:
                keep.append(line[0] + body)
        elif line.startswith(("diff --git", "+++", "---")):
            keep.append(line)
    return "".join(line + "\n" for line in keep)


def normalize_patch(diff: str, repo_dir: Path | str) -> str:
    """The normalized diff of `diff`, made against the files in `repo_dir` (the checkout the
    patch applies to). When the diff does not apply exactly in memory, falls back to
    `normalize_diff_text`."""
    if not diff.strip():
        return ""
    repo_dir = Path(repo_dir)
    try:
        changes = parse_diff(diff)
        before = {c.source_path: _read(repo_dir, c.source_path)
                  for c in changes if c.source_path}
        after = apply_to_texts(diff, before)
    except InputError:
        return normalize_diff_text(diff)
    before = {p: before.get(p, _read(repo_dir, p)) for p in after}
    return normalized_diff(before, after)


def content_hash(text: str) -> str:
    """sha256 hex of a (normalized) diff: the key candidates are grouped by when voting."""
    return hashlib.sha256(text.encode("utf-8", errors="surrogateescape")).hexdigest()
