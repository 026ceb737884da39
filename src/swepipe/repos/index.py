"""A faiss index of a repository's chunks, persisted per (repo, commit, embedder, chunking).

Layout: `<index_root>/<owner>__<name>/<commit>/<fingerprint[:16]>/` holding
`vectors.faiss` (an exact inner-product `IndexFlatIP`: at repository scale, tens of thousands
of chunks, brute force is a few milliseconds and needs no training), `chunks.npz` (line spans,
kinds and file ids as arrays), `meta.json` (files, symbols, manifest) and, for the local
embedder, `lexical.npz`: the document frequencies fitted on this corpus (queries must be
weighted the same way) and each chunk's sparse feature row, used to re-score faiss' candidates
exactly (`lexical.bm25_rescore`).
The fingerprint hashes the embedder identity, the chunking and the file filter, so changing any
of them builds a new index beside the old one. Builds go through `locking.build_dir_once_async`:
one builder per index, readers never see half an index.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import faiss
import numpy as np

from swepipe.hashing import canonical_json
from swepipe.protocols import Embedder
from swepipe.repos.checkout import repo_dirname
from swepipe.repos.chunks import Chunk, ChunkConfig, chunk_source
from swepipe.repos.code import CodeIntel
from swepipe.repos.embedders import HashingEmbedder
from swepipe.repos.files import FileFilter, list_files
from swepipe.repos.lexical import SparseRows, bm25_idf, bm25_rescore
from swepipe.repos.locking import build_dir_once_async

FORMAT_VERSION = 1
KINDS = ("class", "function", "lines")


@contextlib.contextmanager
def _one_omp_thread() -> Iterator[None]:
    """One query is one scan: OpenMP workers only add wake-up and spin costs (measured 8-12 ms
    with one thread against 45-200 ms with two on a loaded 2-core machine). The setting is the
    calling thread's own (an OpenMP ICV), so other threads' batch searches are unaffected."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def embedder_identity(embedder: Embedder) -> str:
    """What makes two embedders' vectors interchangeable: a config hash, or name and dim."""
    own = getattr(embedder, "config_hash", None)
    return own() if callable(own) else f"{embedder.name}|{embedder.dim}"


def fingerprint(embedder: Embedder, chunking: ChunkConfig, files: FileFilter) -> str:
    body = {"format": FORMAT_VERSION, "embedder": embedder_identity(embedder),
            "chunking": chunking.model_dump(mode="json"), "files": files.model_dump(mode="json")}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def _commit_dirname(commit: str) -> str:
    # A sha is used as is; anything else (a ref, a label) is hashed into a safe name.
    if re.fullmatch(r"[0-9a-fA-F]{7,64}", commit):
        return commit.lower()
    return "ref-" + hashlib.sha256(commit.encode()).hexdigest()[:16]


def chunk_text(chunk: Chunk) -> str:
    """What is embedded: the path and symbol carry signal the body may not repeat."""
    return f"{chunk.file_path}\n{chunk.symbol or ''}\n{chunk.text}"


@dataclass
class ChunkIndex:
    """An opened index: search it with a query vector, read chunk spans by id."""

    path: Path
    vectors: faiss.Index
    files: list[str]
    file_ids: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    kinds: np.ndarray
    tokens: np.ndarray
    symbols: list[str | None]
    embedder: Embedder
    sparse: SparseRows | None = None
    """The local embedder's sparse rows per chunk (None for served embedders)."""
    doc_len: np.ndarray | None = None
    bm25_idf: np.ndarray | None = None

    @property
    def size(self) -> int:
        return int(self.vectors.ntotal)

    @classmethod
    def open(cls, path: Path, embedder: Embedder) -> ChunkIndex:
        """Open a built index; the local embedder gets the corpus IDF table back."""
        meta = json.loads((path / "meta.json").read_text())
        arrays = np.load(path / "chunks.npz")
        sparse = doc_len = idf = None
        if isinstance(embedder, HashingEmbedder) and (path / "lexical.npz").exists():
            lex = np.load(path / "lexical.npz")
            n_docs = int(lex["n_docs"])
            embedder = HashingEmbedder(embedder.config, df=lex["df"], n_docs=n_docs)
            sparse = SparseRows(lex["indptr"], lex["buckets"], lex["weights"])
            doc_len, idf = sparse.lengths(), bm25_idf(lex["df"], n_docs)
        return cls(path, faiss.read_index(str(path / "vectors.faiss")), meta["files"],
                   arrays["file_ids"], arrays["starts"], arrays["ends"], arrays["kinds"],
                   arrays["tokens"], meta["symbols"], embedder, sparse, doc_len, idf)

    @cached_property
    def _file_id(self) -> dict[str, int]:
        return {path: i for i, path in enumerate(self.files)}

    def chunks_of(self, files: Collection[str]) -> np.ndarray:
        """Ids of the chunks of these files (paths the index does not hold are ignored)."""
        wanted = [self._file_id[f] for f in files if f in self._file_id]
        return np.flatnonzero(np.isin(self.file_ids, wanted)).astype(np.int64)

    def search(self, query: np.ndarray, k: int,
               among: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k chunk ids and scores for one query vector, optionally among the given chunk
        ids only (faiss skips the others during the scan)."""
        k = max(1, min(k, self.size))
        params = None if among is None else \
            faiss.SearchParameters(sel=faiss.IDSelectorBatch(among))
        with _one_omp_thread():
            scores, ids = self.vectors.search(np.ascontiguousarray(query.reshape(1, -1),
                                                                   dtype=np.float32), k,
                                              params=params)
        keep = ids[0] >= 0  # -1: fewer hits than k
        return ids[0][keep], scores[0][keep]

    async def query(self, text: str, k: int, *, rerank: bool = True,
                    files: Collection[str] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k chunks for a text, best first; only chunks of `files` when given. With the
        local embedder and `rerank`, faiss' candidates are re-scored by exact BM25 over their
        sparse rows (scores are then BM25)."""
        among = None if files is None else self.chunks_of(files)
        if self.size == 0 or (among is not None and len(among) == 0):
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        local = isinstance(self.embedder, HashingEmbedder) and self.sparse is not None
        if not local:
            vec = await self.embedder.embed([text])
            return self.search(np.asarray(vec, dtype=np.float32)[0], k, among)
        assert isinstance(self.embedder, HashingEmbedder)
        assert self.sparse is not None and self.doc_len is not None and self.bm25_idf is not None
        rows = self.embedder.features([text])  # one feature pass serves both stages
        ids, dense = self.search(self.embedder.project(rows)[0], k, among)
        if not rerank:
            return ids, dense
        exact = bm25_rescore(rows, self.sparse, ids, self.doc_len, self.bm25_idf)
        order = np.lexsort((-dense, -exact))
        return ids[order], exact[order]


def collect_chunks(repo_dir: Path, files: FileFilter, chunking: ChunkConfig,
                   intel: CodeIntel | None = None) -> list[Chunk]:
    """Every chunk of every listed file of a checkout, in path then line order."""
    out: list[Chunk] = []
    for rel in list_files(repo_dir, files):
        source = (repo_dir / rel).read_text(encoding="utf-8", errors="replace")
        out.extend(chunk_source(rel, source, config=chunking, intel=intel))
    return out


async def _embed_all(embedder: Embedder, texts: Sequence[str], batch: int) -> np.ndarray:
    parts = [np.asarray(await embedder.embed(texts[i: i + batch]), dtype=np.float32)
             for i in range(0, len(texts), batch)]
    return np.concatenate(parts) if parts else np.zeros((0, embedder.dim), dtype=np.float32)


def _write(dest: Path, chunks: list[Chunk], vectors: np.ndarray, embedder: Embedder,
           manifest: dict) -> None:
    files = sorted({c.file_path for c in chunks})
    file_id = {f: i for i, f in enumerate(files)}
    index = faiss.IndexFlatIP(embedder.dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    faiss.write_index(index, str(dest / "vectors.faiss"))
    np.savez(dest / "chunks.npz",
             file_ids=np.array([file_id[c.file_path] for c in chunks], dtype=np.int32),
             starts=np.array([c.start_line for c in chunks], dtype=np.int32),
             ends=np.array([c.end_line for c in chunks], dtype=np.int32),
             kinds=np.array([KINDS.index(c.kind) for c in chunks], dtype=np.int8),
             tokens=np.array([c.tokens for c in chunks], dtype=np.int32))
    meta = {**manifest, "files": files, "symbols": [c.symbol for c in chunks],
            "embedder": embedder.name, "dim": embedder.dim, "chunks": len(chunks)}
    (dest / "meta.json").write_text(json.dumps(meta))


def _local_build(dest: Path, embedder: HashingEmbedder, texts: list[str]) -> np.ndarray:
    """Features once; fit document frequencies; project; keep the sparse rows."""
    rows = embedder.features(texts)
    fitted = embedder.fitted(rows)
    assert fitted.df is not None
    np.savez(dest / "lexical.npz", df=fitted.df, n_docs=np.int64(rows.n_rows),
             indptr=rows.indptr, buckets=rows.buckets, weights=rows.weights)
    return fitted.project(rows)


async def open_or_build(index_root: Path, repo: str, commit: str, repo_dir: Path,
                        embedder: Embedder, *, chunking: ChunkConfig, files: FileFilter,
                        batch_size: int = 256, intel: CodeIntel | None = None) -> ChunkIndex:
    """The index of `repo` at `commit` (checked out at `repo_dir`), built on first use."""
    fp = fingerprint(embedder, chunking, files)
    final = Path(index_root) / repo_dirname(repo) / _commit_dirname(commit) / fp[:16]

    async def build(tmp: Path) -> None:
        chunks = await asyncio.to_thread(collect_chunks, repo_dir, files, chunking, intel)
        texts = [chunk_text(c) for c in chunks]
        manifest = {"format": FORMAT_VERSION, "repo": repo, "commit": commit,
                    "fingerprint": fp}
        if isinstance(embedder, HashingEmbedder):
            vectors = await asyncio.to_thread(_local_build, tmp, embedder, texts)
        else:
            vectors = await _embed_all(embedder, texts, batch_size)
        await asyncio.to_thread(_write, tmp, chunks, vectors, embedder, manifest)

    path = await build_dir_once_async(final, build)
    return await asyncio.to_thread(ChunkIndex.open, path, embedder)
