"""The languages swepipe understands: file extensions and tree-sitter parsers.

Grammars come from the per-language wheels (tree-sitter-python, -javascript, ...), which ship
compiled grammars and work offline; tree-sitter-language-pack would download at run time.
Parsers are not thread-safe, so each thread gets its own (index builds run in worker threads).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import cache
from pathlib import PurePosixPath
from typing import Any, Literal

from tree_sitter import Language, Parser

LanguageName = Literal["python", "javascript", "typescript", "tsx", "java", "go"]

EXTENSIONS: dict[str, LanguageName] = {
    ".py": "python", ".pyi": "python",
    ".js": "javascript", ".jsx": "javascript", ".mjs": "javascript", ".cjs": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript",
    ".tsx": "tsx",
    ".java": "java",
    ".go": "go",
}
"""Extension -> language. TSX is its own grammar; as a filter, `typescript` includes it."""

FAMILIES: dict[str, tuple[LanguageName, ...]] = {"typescript": ("typescript", "tsx")}
"""Names a user may filter by that cover several grammars."""


def _loader(name: LanguageName) -> Callable[[], Any]:
    # Imported lazily: a Python-only run never loads the other grammars.
    if name == "python":
        import tree_sitter_python as m
        return m.language
    if name == "javascript":
        import tree_sitter_javascript as m
        return m.language
    if name == "typescript":
        import tree_sitter_typescript as m
        return m.language_typescript
    if name == "tsx":
        import tree_sitter_typescript as m
        return m.language_tsx
    if name == "java":
        import tree_sitter_java as m
        return m.language
    if name == "go":
        import tree_sitter_go as m
        return m.language
    raise KeyError(name)


def language_of(path: str) -> LanguageName | None:
    """The language of a file by its extension, or None when swepipe cannot parse it."""
    return EXTENSIONS.get(PurePosixPath(path).suffix.lower())


def expand_languages(names: list[str] | tuple[str, ...]) -> set[str]:
    """Filter names -> grammar names (`typescript` also means `tsx`)."""
    out: set[str] = set()
    for name in names:
        out.update(FAMILIES.get(name, (name,)))
    return out


def extensions_for(names: list[str] | tuple[str, ...]) -> set[str]:
    wanted = expand_languages(names)
    return {ext for ext, lang in EXTENSIONS.items() if lang in wanted}


@cache
def ts_language(name: LanguageName) -> Language:
    return Language(_loader(name)())


_local = threading.local()


def parser_for(name: LanguageName) -> Parser:
    """A parser for `name` owned by the calling thread."""
    parsers: dict[str, Parser] = _local.__dict__.setdefault("parsers", {})
    parser = parsers.get(name)
    if parser is None:
        parser = parsers[name] = Parser(ts_language(name))
    return parser
