"""Agentless-style compressed skeletons of a file.

What Agentless' `CompressTransformer` keeps for Python, rendered from `code.definitions` so the
same code serves every language:
- classes: their header (decorators, bases) and their members (methods, class-level
  assignments, nested classes); class docstrings and other statements are dropped;
- functions and methods: the signature, with the body replaced by `...` (Python) or `{ ... }`
  (brace languages);
- module-level assignments are kept; one longer than `max_assign_lines` keeps its first and
  last `keep_lines` lines around a `...` (Agentless' `compress_assign_stmts`, 30/10/10);
- imports and other module-level statements are dropped (Agentless drops them too).
Definitions without an elidable body (interfaces, enums, Go type declarations, abstract
methods) are kept whole, shortened like long assignments.
"""

from __future__ import annotations

from collections import defaultdict

from swepipe.repos.code import CodeIntel, default_intel
from swepipe.repos.extractors import Definition


def _indent_of(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


class _Renderer:
    def __init__(self, lines: list[str], defs: tuple[Definition, ...], python: bool,
                 max_assign_lines: int, keep_lines: int) -> None:
        self.lines, self.python = lines, python
        self.max_assign_lines, self.keep_lines = max_assign_lines, keep_lines
        by_qual = {d.qualname: d for d in defs if d.kind == "class"}
        self.children: dict[str | None, list[Definition]] = defaultdict(list)
        seen: set[tuple[str | None, int, int, int]] = set()
        for d in defs:
            # Nest by position, not by name: Go methods name their type but live at top level.
            p = by_qual.get(d.parent) if d.parent else None
            parent = d.parent if p and p.start_line <= d.start_line <= d.end_line <= p.end_line \
                else None
            key = (parent, d.start_line, d.end_line, d.start_col)
            if key not in seen:  # `a, b = 1, 2` gives two definitions with one span
                seen.add(key)
                self.children[parent].append(d)
        self.out: list[str] = []

    def text(self, d: Definition, header: bool, indent: str) -> list[str]:
        """The span (or header) of `d`, cut at its columns, first line indented."""
        end_line, end_col = (d.body_line, d.body_col) if header else (d.end_line, d.end_col)
        assert end_line is not None
        seg = self.lines[d.start_line - 1: end_line]
        if end_col is not None:
            seg[-1] = seg[-1][:end_col]
        seg[0] = indent + seg[0][d.start_col:]
        seg = [line.rstrip() for line in seg]
        while len(seg) > 1 and not seg[-1]:  # a header ends before the body's indentation
            seg.pop()
        return seg

    def shorten(self, seg: list[str]) -> list[str]:
        n, k = self.max_assign_lines, self.keep_lines
        if len(seg) > n:
            return [*seg[:k], _indent_of(seg[k]) + "...", *seg[-k:]]
        return seg

    def emit(self, lines: list[str], cut: int) -> None:
        # `cut` removes the indentation of a top-level item found inside an `if`/`try` block.
        for line in lines:
            self.out.append(line[cut:] if line[:cut].isspace() else line.lstrip() if cut else line)

    def render(self, scope: str | None, parent_indent: str, cut: int | None) -> int:
        emitted = 0
        for d in self.children.get(scope, ()):
            first = self.lines[d.start_line - 1]
            own = first[: d.start_col]
            # A member sharing its line with the class header gets a fresh line, indented.
            indent = own if not own.strip() else parent_indent + "    "
            item_cut = len(indent) if cut is None else cut
            if scope is None and d.kind != "variable" and self.out:
                self.out.append("")
            emitted += 1
            if d.body_line is None or d.body_col is None:
                self.emit(self.shorten(self.text(d, False, indent)), item_cut)
                continue
            head = self.text(d, True, indent)
            if self.python:
                head[-1] = head[-1] if head[-1].endswith(":") else head[-1] + ":"
                self.emit(head, item_cut)
                if d.kind == "function" or not self.render(d.qualname, indent, item_cut):
                    self.emit([indent + "    ..."], item_cut)
            elif d.kind == "function":
                head[-1] += " { ... }"
                self.emit(head, item_cut)
            else:
                head[-1] += " {"
                self.emit(head, item_cut)
                self.render(d.qualname, indent, item_cut)
                self.emit([indent + "}"], item_cut)
        return emitted


def skeleton(source: str, language: str, *, max_assign_lines: int = 30, keep_lines: int = 10,
             intel: CodeIntel | None = None) -> str:
    """The compressed skeleton of `source` (see the module docstring)."""
    defs = (intel or default_intel()).definitions(source, language)
    r = _Renderer(source.splitlines(), defs, language == "python", max_assign_lines,
                  keep_lines)
    r.render(None, "", None)
    return "\n".join(r.out) + ("\n" if r.out else "")
