"""The Agentless location grammar: model output -> CodePointers -> spans, and spans -> symbols.

Grammar, one location per line (docs/legacy-formats.md): `class: X`, `function: f`,
`function: Cls.meth`, `variable: v`, `line: N`. Parsing is tolerant of what models write
around it: markdown fences, bullets, bold, backticks, `()` after names, trailing comments, blank
lines, prose lines (ignored), `method:` for `function:`, `line: 10-20` / `lines: 3, 7`, and file
headers (a line that is just a path, possibly `### path.py` or `File: path.py`) which set the file
of the locations below them. Nothing here raises on bad model output: unparseable lines are
skipped, unresolvable symbols come back with `resolved=False` and null lines.

Pointers outside the file (documented choice): a span partly outside is clipped to the file; a
span wholly outside (e.g. `line: 900` in a 300-line file) is kept with `resolved=False` and null
lines, so the model's mistake stays visible in the store instead of silently vanishing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

from swepipe.repos.code import CodeIntel, default_intel, enclosing, find_symbol
from swepipe.repos.languages import language_of
from swepipe.types import CodePointer

AGENTLESS_CONTEXT = 10
"""Agentless widens every location by this many lines on each side."""

_KINDS = {"class": "class", "function": "function", "method": "function", "func": "function",
          "def": "function", "variable": "variable", "var": "variable", "line": "lines",
          "lines": "lines"}
_LOC_RE = re.compile(
    r"^\s*(?:[-*+>]|\d+[.)])?\s*[*_`]*\s*(class|function|method|func|def|variable|var|lines?)"
    r"\s*[*_`]*\s*[:=]\s*[*_`]*\s*(.+?)\s*$", re.IGNORECASE)
_PATH_RE = re.compile(r"^[\w.@+-][\w./@+-]*\.[A-Za-z0-9]+$")
_HEADER_NOISE = re.compile(r"^\s*(?:#+|[-*+>]|\d+[.)])?\s*(?:file(?:\s*path)?\s*:)?\s*",
                           re.IGNORECASE)
_SYMBOL_RE = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*")
_LINES_RE = re.compile(r"(\d+)(?:\s*(?:-|–|to|\.\.)\s*(\d+))?")


def _header_path(line: str) -> str | None:
    text = _HEADER_NOISE.sub("", line).strip().strip("*`'\":").strip()
    return text if _PATH_RE.match(text) and "." in text.rsplit("/", 1)[-1] else None


def parse_locations(text: str, file_path: str | None = None) -> list[CodePointer]:
    """Parse model output in the location grammar into unresolved pointers, in order.

    `file_path` is the file for locations that appear before any file header (Agentless stores
    one string per file). Symbol pointers have `resolved=False` until `resolve_pointer` maps
    them; `line:` pointers carry their lines. A pointer with no known file gets `file_path=""`.
    """
    current = file_path or ""
    out: list[CodePointer] = []
    for raw in (text or "").splitlines():
        if raw.strip().startswith("```"):
            continue
        m = _LOC_RE.match(raw)
        if m is None:
            header = _header_path(raw)
            if header is not None:
                current = header
            continue
        kind, value = _KINDS[m.group(1).lower()], m.group(2)
        if kind == "lines":
            for a, b in _LINES_RE.findall(value.split("#", 1)[0]):
                start, end = int(a), int(b or a)
                out.append(CodePointer(file_path=current, kind="lines",
                                       start_line=min(start, end), end_line=max(start, end)))
            continue
        where, value = current, value.split("#", 1)[0]
        for sep in ("::", ":"):  # `path.py::Cls.meth` or `path.py:Cls.meth`
            head, found, tail = value.partition(sep)
            if found and _header_path(head):
                where, value = head.strip("`* "), tail
                break
        sym = _SYMBOL_RE.search(value.strip("`*'\" "))
        if sym:
            out.append(CodePointer(file_path=where, kind=kind, symbol=sym.group(0),  # type: ignore[arg-type]
                                   resolved=False))
    for rank, p in enumerate(out):
        p.rank = rank
    return out


def widen(pointer: CodePointer, context: int, n_lines: int) -> CodePointer:
    """The pointer with `context` lines added on each side, clipped to the file."""
    if pointer.start_line is None or pointer.end_line is None or context <= 0:
        return pointer
    return pointer.model_copy(update={"start_line": max(1, pointer.start_line - context),
                                      "end_line": min(n_lines, pointer.end_line + context)})


def resolve_pointer(pointer: CodePointer, source: str, *, language: str | None = None,
                    context: int = 0, intel: CodeIntel | None = None) -> CodePointer:
    """Map a pointer to lines of `source` (the file it names). Never raises on model mistakes.

    Symbols go to their definition's span (class, method, module-level assignment) via
    `code.find_symbol`; lines are clipped or flagged (module docstring); `context` widens
    resolved spans as Agentless does with 10. `language` defaults to the file's extension.
    """
    n_lines = max(1, len(source.splitlines()))
    if pointer.kind == "file":
        return pointer.model_copy(update={"resolved": True})
    if pointer.kind == "lines":
        if pointer.start_line is None or pointer.end_line is None:
            return pointer.model_copy(update={"resolved": False})
        if pointer.start_line > n_lines or pointer.end_line < 1:
            return pointer.model_copy(update={"start_line": None, "end_line": None,
                                              "resolved": False})
        clipped = pointer.model_copy(update={"start_line": max(1, pointer.start_line),
                                             "end_line": min(n_lines, pointer.end_line),
                                             "resolved": True})
        return widen(clipped, context, n_lines)
    language = language or language_of(pointer.file_path)
    found = None
    if language is not None and pointer.symbol:
        defs = (intel or default_intel()).definitions(source, language)
        found = find_symbol(defs, pointer.symbol, pointer.kind)
    if found is None:
        return pointer.model_copy(update={"start_line": None, "end_line": None,
                                          "resolved": False})
    hit = pointer.model_copy(update={"start_line": found.start_line, "end_line": found.end_line,
                                     "symbol": found.qualname, "resolved": True})
    return widen(hit, context, n_lines)


def resolve_in_repo(pointers: Iterable[CodePointer], repo_dir: Path, *, context: int = 0,
                    intel: CodeIntel | None = None) -> list[CodePointer]:
    """`resolve_pointer` for pointers into a checkout; a missing file gives `resolved=False`."""
    root = Path(repo_dir).resolve()
    texts: dict[str, str | None] = {}
    out: list[CodePointer] = []
    for p in pointers:
        if p.file_path not in texts:
            path = (root / p.file_path).resolve()
            ok = p.file_path and path.is_relative_to(root) and path.is_file()
            texts[p.file_path] = path.read_text(errors="replace") if ok else None
        text = texts[p.file_path]
        if text is None:
            out.append(p.model_copy(update={"start_line": None, "end_line": None,
                                            "resolved": False}))
        else:
            out.append(resolve_pointer(p, text, context=context, intel=intel))
    return out


def merge_spans(pointers: Iterable[CodePointer]) -> list[CodePointer]:
    """Merge overlapping or touching line spans per file (Agentless merges widened windows).

    Unresolved pointers and whole-file pointers are kept unchanged at the end of their file.
    Merged spans become `kind="lines"` pointers with the best (lowest) rank of their members.
    """
    spans: dict[str, list[CodePointer]] = {}
    rest: list[CodePointer] = []
    for p in pointers:
        if p.start_line is None or p.end_line is None:
            rest.append(p)
        else:
            spans.setdefault(p.file_path, []).append(p)
    out: list[CodePointer] = []
    for path, ps in spans.items():
        ps.sort(key=lambda p: (p.start_line, p.end_line))
        cur = ps[0]
        for p in ps[1:]:
            if p.start_line <= cur.end_line + 1:  # type: ignore[operator]
                cur = cur.model_copy(update={
                    "end_line": max(cur.end_line, p.end_line), "kind": "lines",  # type: ignore[type-var]
                    "symbol": None, "rank": min(cur.rank, p.rank)})
            else:
                out.append(cur)
                cur = p
        out.append(cur)
    return out + rest


def symbol_at(source: str, file_path: str, start_line: int, end_line: int | None = None, *,
              language: str | None = None, intel: CodeIntel | None = None) -> CodePointer:
    """Span -> the innermost enclosing definition as a pointer (`lines` when there is none)."""
    end_line = start_line if end_line is None else end_line
    language = language or language_of(file_path)
    found = None
    if language is not None:
        found = enclosing((intel or default_intel()).definitions(source, language),
                          start_line, end_line)
    if found is None:
        return CodePointer(file_path=file_path, kind="lines", start_line=start_line,
                           end_line=end_line)
    return CodePointer(file_path=file_path, kind=found.kind, symbol=found.qualname,
                       start_line=found.start_line, end_line=found.end_line)


def to_grammar(pointers: Iterable[CodePointer]) -> str:
    """Render pointers back in the grammar, with a file header before each file's lines."""
    out: list[str] = []
    current = None
    for p in pointers:
        if p.file_path != current:
            out.append(p.file_path)
            current = p.file_path
        if p.kind in ("class", "function", "variable") and p.symbol:
            out.append(f"{p.kind}: {p.symbol}")
        elif p.start_line is not None:
            end = p.end_line or p.start_line
            # `line: a-b` is this module's extension; Agentless itself only writes `line: N`.
            out.append(f"line: {p.start_line}" if end == p.start_line
                       else f"line: {p.start_line}-{end}")
    return "\n".join(out) + ("\n" if out else "")
