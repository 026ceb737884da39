"""Code intelligence: the definitions of a file, cached per content hash.

`definitions(source, language)` returns the classes, functions, methods and variables of a file
(see `extractors.Definition`). Results are cached by `sha256(content)` and language: in process
(an LRU) and, when a `CodeIntel` is given a `cache_dir`, on disk as JSON, so a second run over the
same checkout (or another commit that shares most files) parses nothing. Instances of one repo at
different commits share almost all file contents, which is why the key is the content, not the
path.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path

from swepipe.errors import InputError
from swepipe.repos.extractors import EXTRACTOR_VERSION, Definition, extract
from swepipe.repos.languages import EXTENSIONS, language_of, parser_for

__all__ = ["CodeIntel", "Definition", "definitions", "enclosing", "find_symbol", "language_of"]


def _as_bytes(source: str | bytes) -> bytes:
    return source.encode("utf-8", "surrogateescape") if isinstance(source, str) else source


class CodeIntel:
    """Parses files with tree-sitter and caches their definitions."""

    def __init__(self, cache_dir: Path | None = None, max_entries: int = 8192) -> None:
        self.cache_dir = Path(cache_dir) if cache_dir else None
        self.max_entries = max_entries
        self._lru: OrderedDict[tuple[str, str], tuple[Definition, ...]] = OrderedDict()
        self._lock = threading.Lock()
        self.parses = 0
        """How many files were actually parsed (tests and benchmarks read it)."""

    def definitions(self, source: str | bytes, language: str) -> tuple[Definition, ...]:
        """The definitions of `source`, sorted by start line (outer before inner)."""
        if language not in set(EXTENSIONS.values()):
            raise InputError(f"no tree-sitter grammar for language {language!r}")
        src = _as_bytes(source)
        key = (hashlib.sha256(src).hexdigest(), language)
        with self._lock:
            hit = self._lru.get(key)
            if hit is not None:
                self._lru.move_to_end(key)
                return hit
        defs = self._load(key)
        if defs is None:
            tree = parser_for(language).parse(src)  # type: ignore[arg-type]
            defs = tuple(extract(tree.root_node, src, language))
            self.parses += 1
            self._store(key, defs)
        with self._lock:
            self._lru[key] = defs
            if len(self._lru) > self.max_entries:
                self._lru.popitem(last=False)
        return defs

    def file_definitions(self, path: Path) -> tuple[Definition, ...]:
        """Definitions of a file on disk; empty for languages without a grammar."""
        language = language_of(path.name)
        if language is None:
            return ()
        return self.definitions(path.read_bytes(), language)

    def _disk_path(self, key: tuple[str, str]) -> Path | None:
        if self.cache_dir is None:
            return None
        digest, language = key
        return self.cache_dir / digest[:2] / f"{digest}.{language}.v{EXTRACTOR_VERSION}.json"

    def _load(self, key: tuple[str, str]) -> tuple[Definition, ...] | None:
        path = self._disk_path(key)
        if path is None or not path.exists():
            return None
        try:
            return tuple(Definition(**row) for row in json.loads(path.read_text()))
        except (ValueError, TypeError):
            return None  # a torn or foreign file: parse again and overwrite it

    def _store(self, key: tuple[str, str], defs: tuple[Definition, ...]) -> None:
        path = self._disk_path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(json.dumps([asdict(d) for d in defs]))
        os.replace(tmp, path)  # readers see the old file or the whole new one


_default = CodeIntel()


def default_intel() -> CodeIntel:
    """The process-wide in-memory cache used when no `CodeIntel` is passed."""
    return _default


def definitions(source: str | bytes, language: str) -> tuple[Definition, ...]:
    """Definitions of `source` through the process-wide cache."""
    return _default.definitions(source, language)


def find_symbol(defs: Iterable[Definition], symbol: str,
                kind: str | None = None) -> Definition | None:
    """The definition `symbol` names, Agentless-style and tolerant.

    Order: exact qualname; a module-level name; then a unique last component (models write
    `function: _scale_back_ascii` for a method, or misspell the class in `Klass.meth`). Kind
    `function` also accepts classes only when nothing else matches (a model calling a class's
    constructor a function). Returns None when nothing or several things match.
    """
    symbol = symbol.strip().strip("`").removesuffix("()").strip()
    if not symbol:
        return None
    pool = list(defs)
    want = [d for d in pool if kind is None or d.kind == kind] or pool
    for candidates in ([d for d in want if d.qualname == symbol],
                       [d for d in want if d.parent is None and d.name == symbol]):
        if candidates:
            return candidates[0]
    last = symbol.rsplit(".", 1)[-1]
    by_name = [d for d in want if d.name == last]
    if len(by_name) == 1:
        return by_name[0]
    if "." in symbol and by_name:
        # `A.B.meth` written as `B.meth`: match on the qualname's tail.
        tail = [d for d in by_name if d.qualname.endswith("." + symbol)]
        if len(tail) == 1:
            return tail[0]
    return None


def enclosing(defs: Iterable[Definition], start_line: int,
              end_line: int | None = None) -> Definition | None:
    """The innermost definition whose span contains lines `start_line..end_line`."""
    end_line = start_line if end_line is None else end_line
    best: Definition | None = None
    for d in defs:
        if d.start_line <= start_line and end_line <= d.end_line:
            if best is None or (d.end_line - d.start_line) < (best.end_line - best.start_line):
                best = d
    return best
