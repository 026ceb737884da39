"""What Agentless shows the model and how it reads paths back.

- `render_structure`: the repository as an indented folder tree (Agentless'
  `show_project_structure`: four spaces per level, folders end with `/`).
- `match_path`: a path the model wrote -> a file of the listing, tolerating what models add
  (bullets, backticks, `./`, a repository-name prefix) and accepting a unique suffix as Agentless'
  `match_partial_paths` does. Anything else is `None`: the caller drops it and records why.
- `drop_folders`: the irrelevant-folder pre-filter.
- `numbered_excerpt`: file lines inside intervals, numbered `N|code`, `...` between intervals
  (Agentless' `line_wrap_content`), the view the edit-location step answers with line numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

_LINE_NOISE = re.compile(r"^\s*(?:[-*+>]|\d+[.)])?\s*")


def render_structure(paths: Iterable[str]) -> str:
    """Indented tree of the given repository-relative file paths (sorted, folders marked `/`)."""
    tree: dict[str, dict] = {}
    for path in paths:
        node = tree
        parts = path.split("/")
        for part in parts[:-1]:
            node = node.setdefault(part + "/", {})
        node[parts[-1]] = {}
    lines: list[str] = []

    def walk(node: dict[str, dict], depth: int) -> None:
        for name in sorted(node):
            lines.append(" " * (4 * depth) + name)
            if name.endswith("/"):
                walk(node[name], depth + 1)

    walk(tree, 0)
    return "\n".join(lines)


def clean_path(raw: str) -> str:
    """A reply line reduced to the path it names (bullets, quotes, backticks, `./` removed)."""
    text = _LINE_NOISE.sub("", raw).strip().strip("*`'\",;:").strip()
    text = text.split()[0] if text.split() else ""
    text = text.strip("*`'\",;:")
    while text.startswith("./"):
        text = text[2:]
    return text.lstrip("/")


def match_path(raw: str, known: Sequence[str], known_set: set[str] | None = None) -> str | None:
    """The file of `known` that `raw` names, or None (see the module docstring)."""
    known_set = known_set if known_set is not None else set(known)
    text = clean_path(raw)
    if not text:
        return None
    if text in known_set:
        return text
    parts = text.split("/")
    for i in range(1, len(parts)):  # `django__django/django/db/x.py`: a repository prefix
        if "/".join(parts[i:]) in known_set:
            return "/".join(parts[i:])
    suffix = "/" + text
    found = [p for p in known if p.endswith(suffix)]
    return found[0] if len(found) == 1 else None


def drop_folders(paths: Sequence[str], folders: Iterable[str]) -> tuple[list[str], list[str],
                                                                          list[str]]:
    """(kept paths, folders that matched something, folders that matched nothing)."""
    prefixes: list[str] = []
    unknown: list[str] = []
    for raw in folders:
        folder = clean_path(raw).rstrip("/")
        if not folder:
            continue
        prefix = folder + "/"
        if any(p.startswith(prefix) for p in paths):
            prefixes.append(prefix)
        else:
            unknown.append(folder)
    kept = [p for p in paths if not any(p.startswith(pre) for pre in prefixes)]
    return kept, [p.rstrip("/") for p in prefixes], unknown


def merge_intervals(intervals: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, with overlapping or touching intervals merged."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def numbered_excerpt(lines: Sequence[str], intervals: Iterable[tuple[int, int]]) -> str:
    """Lines inside the intervals (1-based, inclusive) as `N|code`, `...` marking the gaps."""
    merged = [(max(1, a), min(len(lines), b)) for a, b in merge_intervals(intervals)]
    merged = [(a, b) for a, b in merged if a <= b]
    out: list[str] = []
    for start, end in merged:
        if start > 1 and (not out or out[-1] != "..."):
            out.append("...")
        out.extend(f"{n}|{lines[n - 1]}" for n in range(start, end + 1))
        if end < len(lines):
            out.append("...")
    return "\n".join(out)
