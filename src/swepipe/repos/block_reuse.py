"""Reusing the chunks and feature rows of a Python file's unchanged top-level blocks.

A new version of a file keeps most of its definitions: across the development set's commits a
quarter of the new files' bytes lie in top-level blocks an earlier version already had. Before
any parsing, a Python file is cut into top-level blocks: a block starts at a column-0 `def`,
`class` or `async def` line, or at the first line of the decorators above one, and runs to the
next block. Chunking a file is the same as chunking each block alone and shifting its lines: the
chunker cuts at top-level definitions, and the glue after a definition stays in its block (all
8,011 development-set files checked gave the same chunks; `tests/repos/test_block_reuse.py`
builds pytest's development commits both ways). So the chunks and rows of a block seen before
(same path, same bytes: the path is part of every chunk's features) are taken from a
per-process memo instead of being parsed, cut and featurized again.

The cut is a guess from the text alone: a string or bracket spanning a column-0 `def` line
fools it. A wrong cut leaves a block that does not parse cleanly, and a file with any such
block is chunked whole, as before; so are files with line breaks other than `\\n` and `\\r\\n`
(the chunker's lines and tree-sitter's rows count those differently) and other languages.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from swepipe.repos.chunks import Chunk, ChunkConfig, chunk_source
from swepipe.repos.embedders import HashingEmbedderConfig
from swepipe.repos.extractors import extract
from swepipe.repos.languages import language_of, parser_for
from swepipe.repos.lexical import SparseRows, row_range

MEMO_BYTES = 32 * 2**20
"""Source bytes of the blocks a memo keeps, least recently used dropped first: more than any
development-set commit's tree (sympy's, 19 MB), so a repository's next commit finds the
blocks of the one before. The memo costs about three times this in memory at most."""

_BLOCK_START = re.compile(r"^(?:@|class\b|def\b|async[ \t]+def\b)", re.MULTILINE)
_COLUMN0 = re.compile(r"^[^\s#]", re.MULTILINE)  # a line starting a top-level statement
_OTHER_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # str.splitlines breaks, not \n


def block_starts(text: str) -> list[int] | None:
    """Character offsets where `text`'s top-level blocks start (the first is 0), or None when
    its line breaks are not all `\\n`/`\\r\\n`."""
    if any(c in text for c in _OTHER_BREAKS) or \
            ("\r" in text and text.count("\r") != text.count("\r\n")):
        return None
    starts = [0]
    decorator_end = -1  # where the line after a decorator starts; -1 after anything else
    for line in _BLOCK_START.finditer(text):
        at = line.start()
        # a definition under its decorators (and anything indented between: their arguments)
        # belongs to the block the first decorator started
        under = decorator_end >= 0 and _COLUMN0.search(text, decorator_end, at) is None
        if at and not under:
            starts.append(at)
        decorator_end = (text.find("\n", at) + 1 or len(text)) if text.startswith("@", at) \
            else -1
    return starts


def chunk_block(path: str, text: str, config: ChunkConfig) -> list[Chunk] | None:
    """The chunks of one top-level block (lines counted from the block's start), or None when
    the block does not parse cleanly on its own."""
    src = text.encode()
    tree = parser_for("python").parse(src)
    if tree.root_node.has_error:
        return None
    return chunk_source(path, text, config=config, definitions=tuple(extract(tree.root_node, src,
                                                                             "python")))


@dataclass(frozen=True, slots=True)
class Block:
    """One top-level block of a file to be indexed."""

    key: bytes
    """sha256 of the path and the block's bytes."""
    path: str
    line0: int
    """Lines of the file before the block."""
    text: str


def split_file(path: str, text: str) -> list[Block] | None:
    """A Python file's top-level blocks, or None when it is chunked whole."""
    if language_of(path) != "python":
        return None
    starts = block_starts(text)
    if starts is None:
        return None
    blocks, line0 = [], 0
    for start, end in zip(starts, [*starts[1:], len(text)]):
        part = text[start:end]
        key = hashlib.sha256(f"{path}\0{part}".encode()).digest()
        blocks.append(Block(key, path, line0, part))
        line0 += part.count("\n")
    return blocks


def _shifted(chunks: Sequence[Chunk], by: int) -> list[Chunk]:
    if not by:  # chunks are immutable: shared
        return list(chunks)
    return [Chunk(c.file_path, c.start_line + by, c.end_line + by, c.kind, c.symbol, c.text)
            for c in chunks]


@dataclass(frozen=True, slots=True)
class BlockChunks:
    """A block's chunks, numbered as in the file they were cut from, and their feature rows."""

    chunks: tuple[Chunk, ...]
    rows: SparseRows
    line0: int
    """Lines before the block in that file."""


class BlockMemo:
    """Chunked blocks by key, least recently used dropped beyond `max_bytes` of source. Thread
    safe: builds of different repositories run on threads at once and share it."""

    def __init__(self, max_bytes: int = MEMO_BYTES) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[bytes, tuple[BlockChunks, int]] = OrderedDict()
        self._lock = threading.Lock()
        self.bytes = 0
        """Source bytes of the blocks held."""

    def get(self, key: bytes) -> BlockChunks | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry[0]

    def put(self, key: bytes, value: BlockChunks, size: int) -> None:
        with self._lock:
            if key in self._entries or size > self.max_bytes:
                return
            self._entries[key] = (value, size)
            self.bytes += size
            while self.bytes > self.max_bytes:
                _, (_, dropped) = self._entries.popitem(last=False)
                self.bytes -= dropped

    def __len__(self) -> int:
        return len(self._entries)


_memos: dict[tuple[ChunkConfig, HashingEmbedderConfig], BlockMemo] = {}


def memo_for(chunking: ChunkConfig, features: HashingEmbedderConfig) -> BlockMemo:
    """This process's memo for one chunking and feature setting (what a block's chunks and
    rows depend on besides its path and bytes)."""
    return _memos.setdefault((chunking, features), BlockMemo())


class BlockBuild:
    """One build's blocks: which the memo holds, which are cut now, how files are assembled."""

    def __init__(self, memo: BlockMemo, plans: Sequence[list[Block] | None]) -> None:
        self.memo, self.plans = memo, plans
        self.known: dict[bytes, BlockChunks | None] = {}
        """Every block of the build by key, None for one that does not parse cleanly (held
        here, so that the memo evicting an entry mid-build loses nothing)."""

    def missing(self) -> list[Block]:
        """The blocks the memo does not hold, once each."""
        todo: dict[bytes, Block] = {}
        for blocks in self.plans:
            for block in blocks or ():
                if block.key in self.known or block.key in todo:
                    continue
                hit = self.memo.get(block.key)
                if hit is None:
                    todo[block.key] = block
                else:
                    self.known[block.key] = hit
        return list(todo.values())

    def record(self, blocks: Sequence[Block], chunks: Sequence[list[Chunk] | None],
               rows: SparseRows) -> None:
        """Take blocks cut now (`chunks` per block, None where it did not parse cleanly;
        `rows` one per chunk) and keep the clean ones in the memo."""
        first = 0
        for block, cut in zip(blocks, chunks):
            if cut is None:
                self.known[block.key] = None
                continue
            done = BlockChunks(tuple(_shifted(cut, block.line0)),
                               row_range(rows, first, first + len(cut)), block.line0)
            first += len(cut)
            self.known[block.key] = done
            self.memo.put(block.key, done, len(block.text))

    def whole_files(self) -> list[int]:
        """Positions of the files to chunk whole: not split, or a block did not parse."""
        return [i for i, blocks in enumerate(self.plans)
                if blocks is None or any(self.known[b.key] is None for b in blocks)]

    def file_chunks(self, i: int) -> tuple[list[Chunk], list[SparseRows]]:
        """File `i`'s chunks and their rows (one part per block), from its blocks."""
        chunks: list[Chunk] = []
        rows: list[SparseRows] = []
        for block in self.plans[i] or ():
            done = self.known[block.key]
            assert done is not None, "a file with a block that did not parse is chunked whole"
            chunks += _shifted(done.chunks, block.line0 - done.line0)
            rows.append(done.rows)
        return chunks, rows
