"""Content-addressed chunk storage: segments of indexed file contents, shared by every commit.

An index store (`<index_root>/<owner>__<name>/<fingerprint16>/`, one per repository, chunking and
feature settings) holds `segments/<id>/`, each written once by one build and never changed:
- `keys.npy` (`S16`): the content keys it indexes, sha256 of `path NUL bytes` cut to 16 bytes
  (the path is part of the key because it is part of every chunk's features);
- `content_ptr.npy`, `file_tokens.npy`: each content's chunk range and estimated token count;
- per chunk `starts`, `ends`, `kinds`, `tokens` and `lengths` (BM25 document length), plus
  `symbols.json` (read only when chunk pointers are returned);
- an inverted file of the chunks' sparse features: `terms` (sorted unique feature ids),
  `term_ptr`, and per posting `post_chunk` (segment-local chunk id, uint16 when it fits) and `post_weight` (float16);
- `vectors.npy` (float16) when a served embedder is configured.
Arrays are plain `.npy` files opened memory-mapped: reopening costs page faults, not reads.
A segment is built in a temporary sibling and renamed into place, so it is whole or absent.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from swepipe.repos.chunks import Chunk
from swepipe.repos.lexical import SparseRows

KINDS = ("class", "function", "lines")
KEY_BYTES = 16
CHUNK_ARRAYS = ("starts", "ends", "kinds", "tokens", "lengths")


def content_key(path: str, data: bytes) -> bytes:
    """The key a file's chunks are stored under: its path and its bytes."""
    return hashlib.sha256(path.encode() + b"\0" + data).digest()[:KEY_BYTES]


def _array(name: str) -> cached_property:
    """A segment's `<name>.npy`, memory-mapped on first access."""
    return cached_property(lambda self: self._load(name))


@dataclass
class Segment:
    """One opened segment (arrays memory-mapped)."""

    path: Path
    keys = _array("keys")
    content_ptr = _array("content_ptr")
    file_tokens = _array("file_tokens")
    terms = _array("terms")
    term_ptr = _array("term_ptr")
    post_chunk = _array("post_chunk")
    post_weight = _array("post_weight")

    def _load(self, name: str) -> np.ndarray:
        return np.load(self.path / f"{name}.npy", mmap_mode="r")

    @cached_property
    def chunk(self) -> dict[str, np.ndarray]:
        return {name: self._load(name) for name in CHUNK_ARRAYS}

    @cached_property
    def symbols(self) -> list[str | None]:
        return json.loads((self.path / "symbols.json").read_text())

    @cached_property
    def vectors(self) -> np.ndarray | None:
        file = self.path / "vectors.npy"
        return np.load(file, mmap_mode="r") if file.exists() else None

    def postings(self, query_terms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(query term index, local chunk id, weight) of every posting of the query's terms;
        `query_terms` sorted and unique. Vectorized: one binary search per term."""
        terms = self.terms
        if len(terms) == 0 or len(query_terms) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, np.zeros(0, dtype=np.float32)
        lo = np.minimum(np.searchsorted(terms, query_terms), len(terms) - 1)
        found = np.flatnonzero(terms[lo] == query_terms)
        starts, ends = self.term_ptr[lo[found]], self.term_ptr[lo[found] + 1]
        n = (ends - starts).astype(np.int64)
        idx = np.repeat(starts - np.cumsum(n) + n, n) + np.arange(int(n.sum()))
        return (np.repeat(found, n), np.asarray(self.post_chunk[idx], dtype=np.int64),
                np.asarray(self.post_weight[idx], dtype=np.float32))


def write_segment(dest_dir: Path, keys: list[bytes], chunks_per_content: list[list[Chunk]],
                  file_tokens: list[int], rows: SparseRows,
                  vectors: np.ndarray | None = None) -> Path:
    """Write one segment (rows: one sparse row per chunk, chunks in content order) and return
    its path."""
    chunks = [c for group in chunks_per_content for c in group]
    counts = np.array([len(g) for g in chunks_per_content], dtype=np.int64)
    arrays = {
        "keys": np.array(keys, dtype=f"S{KEY_BYTES}"),
        "content_ptr": np.concatenate(([0], np.cumsum(counts))).astype(np.int32),
        "file_tokens": np.array(file_tokens, dtype=np.int32),
        "starts": np.array([c.start_line for c in chunks], dtype=np.int32),
        "ends": np.array([c.end_line for c in chunks], dtype=np.int32),
        "kinds": np.array([KINDS.index(c.kind) for c in chunks], dtype=np.int8),
        "tokens": np.array([c.tokens for c in chunks], dtype=np.int32),
        "lengths": rows.lengths().astype(np.float32),
    }
    # the inverted file: postings sorted by term, then chunk (a stable sort of the CSR rows)
    chunk_of = np.repeat(np.arange(rows.n_rows, dtype=np.int32), np.diff(rows.indptr))
    order = np.argsort(rows.buckets, kind="stable")
    arrays.update(inverted_file(rows.buckets[order], chunk_of[order], rows.weights[order],
                                rows.n_rows))
    if vectors is not None:
        arrays["vectors"] = np.asarray(vectors, dtype=np.float16)
    return write_arrays(dest_dir, arrays, [c.symbol for c in chunks])


def inverted_file(post_term: np.ndarray, post_chunk: np.ndarray, post_weight: np.ndarray,
                  n_chunks: int) -> dict[str, np.ndarray]:
    """A segment's `terms`, `term_ptr`, `post_chunk` and `post_weight` from its postings,
    already sorted by term (then chunk)."""
    first = np.flatnonzero(np.concatenate(([True], post_term[1:] != post_term[:-1]))) \
        if len(post_term) else np.zeros(0, dtype=np.int64)
    return {
        "terms": post_term[first].astype(np.uint32),
        "term_ptr": np.concatenate((first, [len(post_term)])).astype(np.int64),
        # chunk ids fit 16 bits in all but the largest first segments: a third less disk
        "post_chunk": post_chunk.astype(np.uint16 if n_chunks <= 1 << 16 else np.int32),
        "post_weight": post_weight.astype(np.float16),
    }


def write_arrays(dest_dir: Path, arrays: dict[str, np.ndarray],
                 symbols: list[str | None]) -> Path:
    """Publish a segment's arrays under a name hashing its keys (the same contents always get
    the same name: a second writer of them finds the first's segment and keeps it)."""
    seg_id = hashlib.sha256(b"".join(sorted(arrays["keys"].tolist()))).hexdigest()[:16]
    final = dest_dir / seg_id
    if final.exists():
        return final
    tmp = dest_dir / f".{seg_id}.{uuid.uuid4().hex[:8]}.tmp"
    tmp.mkdir(parents=True)
    for name, array in arrays.items():
        np.save(tmp / f"{name}.npy", array)
    (tmp / "symbols.json").write_text(json.dumps(symbols))
    try:
        os.rename(tmp, final)
    except OSError:  # another builder published the same contents first: theirs is identical
        shutil.rmtree(tmp, ignore_errors=True)
    return final


def list_segments(segments_dir: Path) -> list[Segment]:
    """Every finished segment of a store, by name (temporaries start with a dot)."""
    if not segments_dir.is_dir():
        return []
    return [Segment(p) for p in sorted(segments_dir.iterdir())
            if p.is_dir() and not p.name.startswith(".")]
