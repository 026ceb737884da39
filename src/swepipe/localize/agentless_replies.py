"""Reading Agentless replies: file lists and location lists, tolerant and never raising.

Each parser returns what it could use plus `problems`: one line per thing it had to drop (a path
that is not in the repository, a location in a file the model was not shown, a symbol that is not
defined, a line outside the file). The localizer logs the problems and retries a step whose
reply gave nothing usable, as Agentless does; a reply is data, so a bad one is an outcome.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
import re
from dataclasses import dataclass, field

from swepipe.localize.agentless_text import clean_path, match_path
from swepipe.localize.prompting import code_blocks
from swepipe.repos.code import CodeIntel
from swepipe.repos.locations import parse_locations, resolve_pointer
from swepipe.types import CodePointer

_PATHLIKE = re.compile(r"[\w./@+-]*\w\.[A-Za-z0-9]+\b")


@dataclass
class Parsed:
    """What a reply gave: usable items, and why anything else was dropped."""

    files: list[str] = field(default_factory=list)
    pointers: list[CodePointer] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        """Worth keeping without a retry: a file, or a pointer that maps to lines."""
        return bool(self.files) or any(p.resolved for p in self.pointers)


def parse_file_list(text: str, listing: Sequence[str], limit: int) -> Parsed:
    """Paths the reply names, mapped onto `listing`, in order, distinct, at most `limit`."""
    known = set(listing)
    out = Parsed()
    for line in code_blocks(text).splitlines():
        if not line.strip() or line.strip().startswith("```"):
            continue
        # The line as a path, else any path-like word in it ("maybe `a/b.py`?").
        tries = [line, *_PATHLIKE.findall(line)]
        path = next((p for p in (match_path(t, listing, known) for t in tries) if p), None)
        if path is None:
            for name in dict.fromkeys(clean_path(t) for t in tries[1:]) or [clean_path(line)]:
                if "/" in name or "." in name:  # prose is not a path the model got wrong
                    out.problems.append(f"path not in the repository: {name!r}")
        elif path not in out.files:
            out.files.append(path)
    if len(out.files) > limit:
        out.problems.append(f"{len(out.files) - limit} files beyond the first {limit} ignored")
        out.files = out.files[:limit]
    if not out.files and not out.problems:
        out.problems.append("no file paths in the reply")
    return out


def parse_location_list(text: str, sources: Mapping[str, str], *, context: int = 0,
                        intel: CodeIntel | None = None) -> Parsed:
    """Locations in the grammar, resolved against `sources` (path -> text of the files shown).

    Locations before any file header belong to the only file when one was shown. Symbols and
    lines are resolved to spans (`context` lines added on each side); a location that cannot be
    mapped stays with `resolved=False` and a problem line, so the caller decides to keep it.
    """
    shown = list(sources)
    out = Parsed()
    seen: set[tuple[object, ...]] = set()
    default = shown[0] if len(shown) == 1 else None
    raw = parse_locations(code_blocks(text), default)
    if not raw:
        out.problems.append("no locations in the reply")
    for pointer in raw:
        path = pointer.file_path if pointer.file_path in sources else (
            match_path(pointer.file_path, shown) if pointer.file_path else None)
        what = pointer.symbol or f"line {pointer.start_line}"
        if path is None:
            where = pointer.file_path or "no file header"
            out.problems.append(f"{pointer.kind} {what} in a file not shown ({where}) dropped")
            continue
        resolved = resolve_pointer(pointer.model_copy(update={"file_path": path}), sources[path],
                                   context=context, intel=intel)
        if not resolved.resolved:
            reason = "outside the file" if pointer.kind == "lines" else "not defined there"
            out.problems.append(f"{pointer.kind} {what} in {path}: {reason}")
        key = (path, resolved.kind, resolved.symbol, resolved.start_line, resolved.end_line,
               None if resolved.resolved else pointer.start_line)
        if key not in seen:
            seen.add(key)
            out.pointers.append(resolved.model_copy(update={"rank": len(out.pointers)}))
    return out
