"""The localized code a repair prompt shows: CodePointers rendered as file excerpts.

As Agentless does, each file appears under a `### path` header. A file with line pointers shows
the lines around each of them (`window` lines above and below, overlapping spans merged, gaps
marked `...`); a file with only whole-file pointers (or pointers that were never resolved to lines)
shows the whole file. Files appear in the order their first pointer has in the list (localizers
put their best files first), at most `max_files` of them.

Localization samples: pointers carry `sample_idx` (Agentless samples edit locations several
times). Generation sample i uses localization sample `i % n`, counting the n distinct
`sample_idx` values in increasing order, so 4 location samples x 10 repairs spread evenly.

Pointers come from localizers that read model output; a path that is absolute, climbs out with
`..` or resolves outside the checkout is never read (it is reported as missing).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from swepipe.patch.safety import unsafe_path_reason
from swepipe.types import CodePointer


@dataclass(frozen=True)
class RenderedContext:
    text: str
    """The excerpts, ready for a prompt ("" when nothing could be shown)."""
    files: list[str] = field(default_factory=list)
    """Files shown, in order."""
    missing: list[str] = field(default_factory=list)
    """Files pointed at that do not exist in the checkout (or are unsafe to read)."""


def localization_samples(pointers: list[CodePointer]) -> list[list[CodePointer]]:
    """Pointers grouped by `sample_idx`, groups in increasing sample order (one empty group for
    an empty list, so `i % len(groups)` always works)."""
    groups: dict[int, list[CodePointer]] = {}
    for pointer in pointers:
        groups.setdefault(pointer.sample_idx, []).append(pointer)
    return [groups[k] for k in sorted(groups)] or [[]]


def pointers_for_sample(pointers: list[CodePointer], sample: int) -> tuple[int, list[CodePointer]]:
    """(localization sample index used, its pointers) for generation sample `sample`."""
    groups = localization_samples(pointers)
    group = groups[sample % len(groups)]
    return (group[0].sample_idx if group else 0), group


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _number(lines: list[str], first: int, numbered: bool) -> list[str]:
    if not numbered:
        return lines
    return [f"{first + k} {line}" for k, line in enumerate(lines)]


def render_file(path: str, text: str, spans: list[tuple[int, int]] | None, *, window: int,
                line_numbers: bool = False) -> str:
    """One file's excerpt: the whole file (`spans is None`) or the widened, merged spans."""
    lines = text.splitlines()
    if spans is None:
        body = _number(lines, 1, line_numbers)
    else:
        body = []
        wide = _merge([(max(1, s - window), min(len(lines), e + window)) for s, e in spans])
        for k, (start, end) in enumerate(wide):
            if k or start > 1:
                body.append("...")
            body += _number(lines[start - 1:end], start, line_numbers)
        if wide and wide[-1][1] < len(lines):
            body.append("...")
    return f"### {path}\n" + "\n".join(body)


def render_context(pointers: list[CodePointer], repo_dir: Path, *, window: int = 10,
                   line_numbers: bool = False, max_files: int | None = None) -> RenderedContext:
    """Render the pointers of one localization sample (see the module docstring)."""
    by_file: OrderedDict[str, list[CodePointer]] = OrderedDict()
    for pointer in pointers:
        by_file.setdefault(pointer.file_path, []).append(pointer)
    parts, shown, missing = [], [], []
    for path, group in by_file.items():
        if max_files is not None and len(shown) >= max_files:
            break
        file = repo_dir / path
        if unsafe_path_reason(path, repo_dir) or not file.is_file():
            missing.append(path)
            continue
        text = file.read_text(encoding="utf-8", errors="replace")
        spans = [(p.start_line, p.end_line or p.start_line) for p in group
                 if p.resolved and p.start_line is not None]
        # a file pointer next to span pointers only says the file matters: show the spans
        parts.append(render_file(path, text, spans or None,
                                 window=window, line_numbers=line_numbers))
        shown.append(path)
    return RenderedContext("\n\n".join(parts), shown, missing)
