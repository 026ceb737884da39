"""Chunks along AST nodes, for embedding retrieval.

A file is cut at its definitions: every top-level class and function is a chunk of its own; the
glue between them (imports, module-level assignments, statements, comments) is grouped into
`lines` chunks. A definition above `max_tokens` is split: a class into its header part and its
members (recursively, like a module), a function into consecutive line windows that keep its
symbol. Files without a grammar are cut into line windows. Chunks never overlap and cover every
non-blank line of the file, so each line belongs to exactly one chunk.

Token counts are swepipe's documented estimate (`models.tokens.estimate_tokens`, UTF-8 bytes / 4);
chunking must not depend on a served tokenizer, or the index key would too.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from pydantic import BaseModel, Field

from swepipe.models.tokens import estimate_tokens
from swepipe.repos.code import CodeIntel, default_intel
from swepipe.repos.extractors import Definition
from swepipe.repos.languages import language_of

ChunkKind = Literal["class", "function", "lines"]


class ChunkConfig(BaseModel):
    """How files are cut into chunks. Part of the index key."""

    model_config = {"extra": "forbid", "frozen": True}

    max_tokens: int = Field(default=512, gt=8)
    """Largest chunk, in estimated tokens; bigger definitions are split."""


class Chunk(NamedTuple):
    """A span of one file. Lines are 1-based and inclusive. (A named tuple, not a dataclass:
    index builds make and ship hundreds of thousands, and a tuple is made and unpickled about
    three times faster.)"""

    file_path: str
    start_line: int
    end_line: int
    kind: ChunkKind
    symbol: str | None
    text: str

    @property
    def tokens(self) -> int:
        return estimate_tokens(self.text)


class _Cutter:
    def __init__(self, path: str, lines: list[str], defs: tuple[Definition, ...],
                 max_tokens: int) -> None:
        self.path, self.lines, self.max = path, lines, max_tokens
        # estimate_tokens(line) + 1 (the newline), inlined: this runs once per line of a repo
        self.cost = [-(-len(line.encode()) // 4) + 1 for line in lines]
        self.defs = [d for d in defs if d.kind != "variable"]
        self.out: list[Chunk] = []

    def emit(self, start: int, end: int, kind: ChunkKind, symbol: str | None) -> None:
        """Emit lines start..end (1-based), split into windows of at most `max` tokens."""
        while start <= end and not self.lines[start - 1].strip():
            start += 1
        while end >= start and not self.lines[end - 1].strip():
            end -= 1
        while start <= end:
            stop, total = start, 0
            while stop <= end and (stop == start or total + self.cost[stop - 1] <= self.max):
                total += self.cost[stop - 1]
                stop += 1
            text = "\n".join(self.lines[start - 1: stop - 1])
            self.out.append(Chunk(self.path, start, stop - 1, kind, symbol, text))
            start = stop

    def region(self, start: int, end: int, scope: Definition | None) -> None:
        """Cut lines start..end whose top-level definitions are the children of `scope`."""
        # Definitions are sorted by (start, -end): one pass keeps the outermost ones.
        top: list[Definition] = []
        covered = start - 1
        for d in self.defs:
            if d is scope or d.start_line < start or d.end_line > end:
                continue
            if d.start_line > covered:
                top.append(d)
                covered = d.end_line
        glue_kind: ChunkKind = "class" if scope is not None else "lines"
        glue_symbol = scope.qualname if scope is not None else None
        cursor = start
        for d in top:
            if d.start_line > cursor:
                self.emit(cursor, d.start_line - 1, glue_kind, glue_symbol)
            self.definition(d)
            cursor = d.end_line + 1
        if cursor <= end:
            self.emit(cursor, end, glue_kind, glue_symbol)

    def definition(self, d: Definition) -> None:
        size = sum(self.cost[d.start_line - 1: d.end_line])
        kind: ChunkKind = "class" if d.kind == "class" else "function"
        if size <= self.max or d.kind != "class":
            self.emit(d.start_line, d.end_line, kind, d.qualname)
        else:
            self.region(d.start_line, d.end_line, d)


def chunk_source(file_path: str, source: str, *, config: ChunkConfig | None = None,
                 language: str | None = None, intel: CodeIntel | None = None,
                 definitions: tuple[Definition, ...] | None = None) -> list[Chunk]:
    """Cut one file into chunks (see the module docstring), in line order; `definitions`, when
    given, are the file's (parsed already), else they come from `intel`."""
    config = config or ChunkConfig()
    lines = source.splitlines()
    language = language or language_of(file_path)
    defs = definitions if definitions is not None else \
        (intel or default_intel()).definitions(source, language) if language else ()
    cutter = _Cutter(file_path, lines, defs, config.max_tokens)
    cutter.region(1, len(lines), None)
    cutter.out.sort(key=lambda c: c.start_line)
    return cutter.out


def chunk_text(chunk: Chunk) -> str:
    """What is featurized and embedded: the path and symbol carry signal the body may not."""
    return f"{chunk.file_path}\n{chunk.symbol or ''}\n{chunk.text}"
