"""SEARCH/REPLACE edit blocks, the edit format Agentless and CodeMonkeys ask models for.

    ```python
    ### path/to/file.py
    <<<<<<< SEARCH
    old lines
    =======
    new lines
    >>>>>>> REPLACE
    ```

Several blocks may follow one `### path` line. Blocks apply in order, each to the file as the
previous blocks left it. A block's SEARCH text is found by, in order:

1. exact whole lines (one match required; two or more is `ambiguous`, never a guess);
2. exact text inside lines, when unique (a search that starts or ends mid-line);
3. whole lines compared with whitespace collapsed (indentation-tolerant); the REPLACE text is
   re-indented by the difference between the file's and the SEARCH's indentation.

An empty SEARCH creates a file that does not exist (or fills an empty one).
`patch_from_output` turns model output into a `Patch` and never raises on bad model output: a
model reply that does not parse is an outcome with a reason, not an exception.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from swepipe.patch.apply import make_diff
from swepipe.patch.normalize import normalized_diff
from swepipe.patch.safety import unsafe_path_reason
from swepipe.types import Patch

_PATH = re.compile(r"^#{3}\s+(?P<path>\S.*?)\s*$")
_SEARCH = re.compile(r"^\s*<{5,9} ?SEARCH\s*$")
_DIVIDER = re.compile(r"^\s*={5,9}\s*$")
_REPLACE = re.compile(r"^\s*>{5,9} ?REPLACE\s*$")

Match = Literal["exact", "substring", "whitespace", "created"]


@dataclass(frozen=True)
class EditBlock:
    path: str
    search: str
    replace: str
    index: int
    """Position of the block in the model output, 0-based."""


@dataclass(frozen=True)
class BlockResult:
    index: int
    path: str
    ok: bool
    how: Match | None = None
    """How the SEARCH text was found; None when the block failed."""
    reason: str | None = None
    """Why the block failed: file missing, search text not found, ambiguous match, unsafe path."""


def parse_edit_blocks(text: str) -> tuple[list[EditBlock], list[str]]:
    """Blocks in `text`, and one message per malformed block (missing path or markers)."""
    lines = text.splitlines()
    blocks: list[EditBlock] = []
    errors: list[str] = []
    path: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if m := _PATH.match(line):
            path = m["path"].strip("`'\" ")
        elif line.startswith("```") and line.strip() == "```":
            path = None  # a closing fence ends the file a path line announced
        elif _SEARCH.match(line):
            idx = len(blocks) + len(errors)
            div = next((j for j in range(i + 1, len(lines)) if _DIVIDER.match(lines[j])), None)
            end = next((j for j in range(div + 1, len(lines)) if _REPLACE.match(lines[j])),
                       None) if div is not None else None
            nested = div is not None and any(_SEARCH.match(x) for x in lines[i + 1:div])
            if div is None or end is None or nested:
                errors.append(f"block {idx}: SEARCH without matching ======= and REPLACE markers")
                i += 1  # resume after this marker: a later, well-formed block still parses
                continue
            if path is None:
                errors.append(f"block {idx}: no '### path' line before SEARCH")
            else:
                blocks.append(EditBlock(path, "\n".join(lines[i + 1:div]),
                                        "\n".join(lines[div + 1:end]), idx))
            i = end
        i += 1
    return blocks, errors


def _ws(line: str) -> str:
    return " ".join(line.split())


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _reindent(repl: list[str], needle: list[str], matched: list[str]) -> list[str]:
    """Re-indent REPLACE lines from the SEARCH's indentation to the file's.

    The matched pairs map each SEARCH indent width to the file's indent; widths in between are
    scaled by the ratio of the two smallest levels (a model writing 2-space indents for a
    4-space file gets 4-space indents back)."""
    pairs: dict[int, str] = {}
    for s, f in zip(needle, matched):
        if s.strip():
            pairs.setdefault(len(_indent(s)), _indent(f))
    levels = sorted(pairs)
    scale = 1.0
    if len(levels) >= 2 and levels[1] != levels[0]:
        scale = (len(pairs[levels[1]]) - len(pairs[levels[0]])) / (levels[1] - levels[0])
    out = []
    for line in repl:
        width = len(_indent(line))
        if not line.strip() or not levels:
            out.append(line)
            continue
        if width in pairs:
            out.append(pairs[width] + line.lstrip())
            continue
        base = max((lv for lv in levels if lv <= width), default=levels[0])
        extra = round((width - base) * scale)
        indent = pairs[base] + " " * extra if extra >= 0 else pairs[base][:extra]
        out.append(indent + line.lstrip())
    return out


def _windows(hay: list[str], needle: list[str], key: Callable[[str], str]) -> list[int]:
    n = [key(x) for x in needle]
    h = [key(x) for x in hay]
    return [i for i in range(len(h) - len(n) + 1) if h[i:i + len(n)] == n]


def apply_block(content: str | None, block: EditBlock) -> tuple[str | None, BlockResult]:
    """Apply one block to a file's text (None: the file does not exist)."""
    def fail(reason: str) -> tuple[None, BlockResult]:
        return None, BlockResult(block.index, block.path, False, reason=reason)

    def done(text: str, how: Match) -> tuple[str, BlockResult]:
        return text, BlockResult(block.index, block.path, True, how=how)

    if not block.search.strip():
        if content is None or not content.strip():
            return done(block.replace + "\n" if block.replace else "", "created")
        return fail(f"empty SEARCH in existing non-empty file {block.path}")
    if content is None:
        return fail(f"file {block.path} does not exist")
    nl = "\r\n" if "\r\n" in content else "\n"
    hay = content.splitlines()
    trailing = content.endswith(("\n", "\r"))
    needle = block.search.splitlines()
    while needle and not needle[0].strip():
        needle.pop(0)
    while needle and not needle[-1].strip():
        needle.pop()
    repl = block.replace.splitlines()

    def join(lines: list[str]) -> str:
        return nl.join(lines) + (nl if trailing or not lines else "")

    hits = _windows(hay, needle, lambda s: s)
    if len(hits) == 1:
        i = hits[0]
        return done(join(hay[:i] + repl + hay[i + len(needle):]), "exact")
    if len(hits) > 1:
        return fail(f"SEARCH text matches {len(hits)} places in {block.path} (ambiguous)")
    search_text = "\n".join(needle)
    flat = content.replace("\r\n", "\n")
    if (count := flat.count(search_text)) == 1:
        return done(flat.replace(search_text, block.replace).replace("\n", nl), "substring")
    if count > 1:
        return fail(f"SEARCH text occurs {count} times in {block.path} (ambiguous)")
    hits = _windows(hay, needle, _ws)
    if len(hits) > 1:
        return fail(f"SEARCH text matches {len(hits)} places in {block.path} ignoring "
                    "whitespace (ambiguous)")
    if not hits:
        return fail(f"SEARCH text not found in {block.path}")
    i = hits[0]
    new = _reindent(repl, needle, hay[i:i + len(needle)])
    return done(join(hay[:i] + new + hay[i + len(needle):]), "whitespace")


def apply_blocks(blocks: list[EditBlock], read: Callable[[str], str | None],
                 root: Path | str | None = None) -> tuple[dict[str, str | None],
                                                           dict[str, str | None],
                                                           list[BlockResult]]:
    """Apply blocks in order. Returns (original texts, edited texts, per-block results) for the
    files touched; `read(path)` gives a file's current text or None. Paths are checked against
    `root` (when given) before they are read."""
    before: dict[str, str | None] = {}
    after: dict[str, str | None] = {}
    results = []
    for block in blocks:
        if root is not None and (why := unsafe_path_reason(block.path, root)):
            results.append(BlockResult(block.index, block.path, False, reason=why))
            continue
        if block.path not in after:
            before[block.path] = after[block.path] = read(block.path)
        new, res = apply_block(after[block.path], block)
        results.append(res)
        if res.ok:
            after[block.path] = new
    return before, after, results


def _syntax_errors(before: dict[str, str | None], after: dict[str, str | None]) -> list[str]:
    """Edited Python files that no longer parse (Agentless drops such edits too)."""
    out = []
    for path, text in after.items():
        if not path.endswith(".py") or text is None:
            continue
        try:
            ast.parse(text)
        except (SyntaxError, ValueError) as exc:
            try:
                ast.parse(before.get(path) or "")
            except (SyntaxError, ValueError):
                continue  # it did not parse before either: not this edit's fault
            out.append(f"edited {path} does not parse: {exc}")
    return out


def patch_from_output(text: str, repo_dir: Path | str, *, sample_idx: int = 0,
                      check_syntax: bool = True) -> Patch:
    """Turn a model's SEARCH/REPLACE output into a `Patch` against the checkout `repo_dir`.

    Status: `ok`; `empty` (no blocks, or edits that change nothing); `unparseable` (a malformed
    block); `apply_failed` (a block failed, or an edited Python file no longer parses).
    Per-block results are in `meta["blocks"]`.
    """
    root = Path(repo_dir)

    def read(path: str) -> str | None:
        f = root / path
        return f.read_text(encoding="utf-8", errors="surrogateescape") if f.is_file() else None

    blocks, errors = parse_edit_blocks(text or "")
    if errors:
        return Patch(diff="", sample_idx=sample_idx, status="unparseable",
                     reason="; ".join(errors))
    if not blocks:
        return Patch(diff="", sample_idx=sample_idx, status="empty",
                     reason="no SEARCH/REPLACE blocks in the output")
    before, after, results = apply_blocks(blocks, read, root)
    meta = {"blocks": [asdict(r) for r in results]}
    failed = [f"block {r.index} ({r.path}): {r.reason}" for r in results if not r.ok]
    if check_syntax and not failed:
        failed = _syntax_errors(before, after)
    if failed:
        return Patch(diff="", sample_idx=sample_idx, status="apply_failed",
                     reason="; ".join(failed), meta=meta)
    diff = make_diff(before, after)
    if not diff:
        return Patch(diff="", sample_idx=sample_idx, status="empty",
                     reason="the edits change nothing", meta=meta)
    files = sorted(p for p in after if before.get(p) != after[p])
    return Patch(diff=diff, sample_idx=sample_idx, status="ok", files=files,
                 normalized_diff=normalized_diff(before, after), meta=meta)
