"""Parse git-style unified diffs with unidiff into files and hunks.

Paths are repository-relative without the `a/`/`b/` prefixes. A file's `path` is its source path,
or its target path when the file is new (source `/dev/null`), which is how SWE-bench's gold files
are defined.

`apply_to_texts` applies a diff exactly (no fuzz) to in-memory file texts; normalization uses it
to get the edited files without a working copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from unidiff import PatchSet
from unidiff.errors import UnidiffParseError

from swepipe.errors import InputError


@dataclass(frozen=True)
class Hunk:
    source_start: int
    source_length: int
    target_start: int
    target_length: int
    section_header: str
    removed_lines: tuple[int, ...]
    """Original-file line numbers of removed lines."""
    added_after: tuple[int, ...]
    """For each added line, the original line it follows (0 = before the first line)."""


@dataclass(frozen=True)
class FileChange:
    path: str
    source_path: str | None
    target_path: str | None
    change_type: str  # added | deleted | modified | renamed
    is_binary: bool
    added: int
    removed: int
    hunks: tuple[Hunk, ...] = field(default_factory=tuple)


def _strip(path: str | None) -> str | None:
    if path is None or path == "/dev/null":
        return None
    return path[2:] if path[:2] in ("a/", "b/") else path


def parse_diff(text: str, *, source: str = "diff") -> list[FileChange]:
    """Files and hunks of a unified diff. Raises `InputError` naming `source` when unparseable."""
    if not text.strip():
        return []
    try:
        patch_set = PatchSet(text)
    except UnidiffParseError as exc:
        raise InputError(f"unparseable diff: {exc}", source=source) from exc
    changes = []
    for pf in patch_set:
        src, tgt = _strip(pf.source_file), _strip(pf.target_file)
        if pf.is_added_file:
            kind, src = "added", None
        elif pf.is_removed_file:
            kind, tgt = "deleted", None
        elif getattr(pf, "is_rename", False) or (src and tgt and src != tgt):
            kind = "renamed"
        else:
            kind = "modified"
        hunks = []
        for h in pf:
            removed, added_after = [], []
            last_source = h.source_start - 1
            for line in h:
                if line.source_line_no is not None:
                    last_source = line.source_line_no
                if line.is_removed:
                    removed.append(line.source_line_no)
                elif line.is_added:
                    added_after.append(last_source)
            hunks.append(Hunk(h.source_start, h.source_length, h.target_start, h.target_length,
                              h.section_header or "", tuple(removed), tuple(added_after)))
        changes.append(FileChange(path=src or tgt or "", source_path=src, target_path=tgt,
                                  change_type=kind, is_binary=pf.is_binary_file,
                                  added=pf.added, removed=pf.removed, hunks=tuple(hunks)))
    return changes


def _hunk_lines(hunk: object, kind: str) -> list[str]:
    """The hunk's source (`kind="source"`) or target lines, git's no-newline marker applied."""
    out: list[str] = []
    keep = (" ", "-") if kind == "source" else (" ", "+")
    last_kept = False
    for line in hunk:  # type: ignore[attr-defined]
        if line.line_type == "\\":
            # the marker follows the line it belongs to; strip that line's newline if we kept it
            if last_kept and out:
                out[-1] = out[-1].rstrip("\n").rstrip("\r")
            continue
        last_kept = line.line_type in keep
        if last_kept:
            out.append(line.value)
    return out


def apply_to_texts(text: str, originals: dict[str, str | None], *,
                   source: str = "diff") -> dict[str, str | None]:
    """Apply a diff exactly (no fuzz) to in-memory files; returns the new text of every file
    the diff touches (None for a deleted file). `originals` maps repo-relative paths to their
    current text (None or absent: the file does not exist).

    Raises `InputError` when the diff does not parse or a hunk's context does not match: this
    is for diffs we made or already applied in a working copy, not for a model's raw diff.
    """
    try:
        patch_set = PatchSet(text)
    except UnidiffParseError as exc:
        raise InputError(f"unparseable diff: {exc}", source=source) from exc
    result: dict[str, str | None] = {}
    for pf in patch_set:
        src, tgt = _strip(pf.source_file), _strip(pf.target_file)
        if pf.is_binary_file:
            raise InputError(f"binary change to {src or tgt} cannot be applied in memory",
                             source=source)
        if pf.is_removed_file:
            result[src or ""] = None
            continue
        old = "" if pf.is_added_file else originals.get(src or "")
        if old is None:
            raise InputError(f"{src} does not exist", source=source)
        lines = old.splitlines(keepends=True)
        new: list[str] = []
        pos = 0  # index into `lines` of the next line not yet copied
        for hunk in pf:
            start = max(hunk.source_start - 1, 0) if hunk.source_length else hunk.source_start
            want = _hunk_lines(hunk, "source")
            if start < pos or lines[start:start + len(want)] != want:
                raise InputError(f"hunk at line {hunk.source_start} of {src} does not match",
                                 source=source)
            new += lines[pos:start] + _hunk_lines(hunk, "target")
            pos = start + len(want)
        new += lines[pos:]
        if src and tgt and src != tgt:
            result[src] = None
        result[tgt or src or ""] = "".join(new)
    return result
