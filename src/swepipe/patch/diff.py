"""Parse git-style unified diffs with unidiff into files and hunks.

Paths are repository-relative without the `a/`/`b/` prefixes. A file's `path` is its source path,
or its target path when the file is new (source `/dev/null`), which is how SWE-bench's gold files
are defined.
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
