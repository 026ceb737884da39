"""A repository's chunk index: content-addressed segments, one view per commit.

Layout: `<index_root>/<owner>__<name>/<fingerprint16>/` is the store of one repository for one
chunking and feature setting (and served embedder, if any): `segments/` (`repos.segments`: the
chunks, postings and vectors of file contents, keyed by path and content hash, written once)
and `views/<commit>-<filter12>/view.json`, the files a commit has under a file filter and the
content key of each. A commit's index is that view over the shared segments, so the second
commit of a repository only chunks and featurizes the files that changed since one indexed
before (about a third of them across the development set's commits, years apart; consecutive
commits share almost all). Opening a view maps its keys to segment rows with one sorted search
and gathers per-chunk arrays; nothing is read that the view does not use.

Builds of one store are serialized by a lock file (and an asyncio lock per process), so two
commits built at once never index the same new contents twice; a view is renamed into place
whole. A build's new contents are chunked and featurized on `workers` processes when there are
enough of them (`repos.build_pool`; the segment is the same either way).

Scoring is exact (`lexical.bm25_scores` over the postings of the query's terms), with no
projection and no approximate search: at a few tens of thousands of chunks the inverted file
answers in milliseconds.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import weakref
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from swepipe.errors import InputError
from swepipe.hashing import canonical_json
from swepipe.protocols import Embedder
from swepipe.repos.build_pool import Built, build_contents
from swepipe.repos.checkout import repo_dirname
from swepipe.repos.chunks import ChunkConfig
from swepipe.repos.code import CodeIntel
from swepipe.repos.embedders import HashingEmbedder
from swepipe.repos.files import FileFilter, list_files
from swepipe.repos.lexical import Bm25Params, SparseRows, bm25_scores
from swepipe.repos.locking import build_dir_once_async, file_lock
from swepipe.repos.segments import CHUNK_ARRAYS, KEY_BYTES, KINDS, Segment, content_key, \
    list_segments, write_segment

FORMAT_VERSION = 2
__all__ = ["KINDS", "IndexView", "open_or_build", "store_fingerprint"]


def embedder_identity(embedder: Embedder) -> str:
    """What makes two embedders' vectors interchangeable: a config hash, or name and dim."""
    own = getattr(embedder, "config_hash", None)
    return own() if callable(own) else f"{embedder.name}|{embedder.dim}"


def store_fingerprint(lexical: HashingEmbedder, chunking: ChunkConfig,
                      served: Embedder | None) -> str:
    """Keys a store: what the stored chunks, postings and vectors depend on (not the filter)."""
    body = {"format": FORMAT_VERSION, "features": embedder_identity(lexical),
            "chunking": chunking.model_dump(mode="json"),
            "served": embedder_identity(served) if served is not None else None}
    return hashlib.sha256(canonical_json(body).encode()).hexdigest()


def view_name(commit: str, files: FileFilter) -> str:
    # A sha is used as is; anything else (a ref, a label) is hashed into a safe name.
    name = commit.lower() if re.fullmatch(r"[0-9a-fA-F]{7,64}", commit) else \
        "ref-" + hashlib.sha256(commit.encode()).hexdigest()[:16]
    filt = hashlib.sha256(canonical_json(files.model_dump(mode="json")).encode()).hexdigest()
    return f"{name}-{filt[:12]}"


@dataclass(eq=False)  # identity: callers key caches by the opened view
class IndexView:
    """A commit's index: its files and their chunks, with exact lexical and dense scoring."""

    store: Path
    files: list[str]
    file_tokens: np.ndarray
    """Estimated tokens of each whole file (what putting it in a prompt costs)."""
    file_ids: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    kinds: np.ndarray
    tokens: np.ndarray
    lengths: np.ndarray
    segments: list[Segment]
    seg_of: np.ndarray
    """Per chunk: its segment's position in `segments`."""
    local_of: np.ndarray
    """Per chunk: its row in that segment."""
    to_view: list[np.ndarray] = field(default_factory=list)
    """Per segment: segment chunk row -> view chunk id, -1 for chunks of other commits."""

    @property
    def size(self) -> int:
        return len(self.file_ids)

    def symbols(self, ids: np.ndarray) -> list[str | None]:
        """The symbols of these chunks (read from the segments on first use)."""
        ids = np.asarray(ids, dtype=np.int64)
        out = np.full(len(ids), None, dtype=object)
        seg, local = self.seg_of[ids], self.local_of[ids]
        for s in np.unique(seg).tolist():
            mine = np.flatnonzero(seg == s)
            out[mine] = np.asarray(self.segments[s].symbols, dtype=object)[local[mine]]
        return out.tolist()

    def chunks_of(self, files: Collection[str]) -> np.ndarray:
        """Ids of the chunks of these files (paths the view does not hold are ignored)."""
        wanted = np.flatnonzero(np.isin(np.array(self.files, dtype=object),
                                        np.array(list(files), dtype=object)))
        return np.flatnonzero(np.isin(self.file_ids, wanted)).astype(np.int64)

    def _postings(self, query: SparseRows) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                    np.ndarray]:
        """(query term index, view chunk id, weight) of the view's postings of the query's
        terms, and the query terms' weights."""
        terms = query.buckets[query.indptr[0]: query.indptr[1]].astype(np.uint32)
        weights = query.weights[query.indptr[0]: query.indptr[1]]
        order = np.argsort(terms)
        terms, weights = terms[order], weights[order]
        parts = [(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.float32))]
        for seg, mapping in zip(self.segments, self.to_view):
            q, local, w = seg.postings(terms)
            view_id = mapping[local]
            keep = view_id >= 0
            parts.append((q[keep], view_id[keep], w[keep]))
        return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]),
                np.concatenate([p[2] for p in parts]), weights)

    def lexical_scores(self, query: SparseRows, params: Bm25Params) -> np.ndarray:
        """BM25 of every chunk of the view for one query row (document frequencies and lengths
        are this view's own, as if the commit had been indexed alone)."""
        q, ids, tf, weights = self._postings(query)
        return bm25_scores(q, ids, tf, weights, self.lengths, params)

    def dense_scores(self, vector: np.ndarray) -> np.ndarray:
        """Inner product of every chunk's stored vector with the query vector."""
        out = np.zeros(self.size, dtype=np.float32)
        v = np.asarray(vector, dtype=np.float32).reshape(-1)
        for s, seg in enumerate(self.segments):
            mine = np.flatnonzero(self.seg_of == s)
            if len(mine) and seg.vectors is not None:
                out[mine] = np.asarray(seg.vectors[self.local_of[mine]], np.float32) @ v
        return out


def _catalogue(segments: list[Segment]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All stored keys sorted, with each one's segment and content row."""
    if not segments:
        return np.zeros(0, dtype=f"S{KEY_BYTES}"), np.zeros(0, np.int64), np.zeros(0, np.int64)
    keys = np.concatenate([s.keys for s in segments])
    seg = np.concatenate([np.full(len(s.keys), i) for i, s in enumerate(segments)])
    row = np.concatenate([np.arange(len(s.keys)) for s in segments])
    order = np.argsort(keys, kind="stable")
    return keys[order], seg[order], row[order]


def _locate(catalogue: tuple[np.ndarray, np.ndarray, np.ndarray],
            keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Segment and row of each key; segment -1 where the store does not hold it."""
    sorted_keys, seg, row = catalogue
    if len(sorted_keys) == 0:
        return np.full(len(keys), -1), np.zeros(len(keys), np.int64)
    pos = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    found = sorted_keys[pos] == keys
    return np.where(found, seg[pos], -1), np.where(found, row[pos], 0)


def open_view(store: Path, view_dir: Path) -> IndexView:
    """Open a built view: map its keys to segment rows and gather its chunks' arrays."""
    meta = json.loads((view_dir / "view.json").read_text())
    keys = np.array([bytes.fromhex(k) for k in meta["keys"]], dtype=f"S{KEY_BYTES}")
    segments = list_segments(store / "segments")
    seg_of_file, row_of_file = _locate(_catalogue(segments), keys)
    if (seg_of_file < 0).any():
        missing = meta["files"][int(np.flatnonzero(seg_of_file < 0)[0])]
        raise InputError(f"index view {view_dir} names contents no segment holds (first: "
                         f"{missing}); drop the view to rebuild it", source=str(view_dir))
    used = sorted(set(seg_of_file.tolist()))
    segs = [segments[i] for i in used]
    seg_pos = np.searchsorted(np.array(used), seg_of_file)
    n_files = len(keys)
    first = np.zeros(n_files, np.int64)
    count = np.zeros(n_files, np.int64)
    ftokens = np.zeros(n_files, np.int64)
    for s, seg in enumerate(segs):
        mine = np.flatnonzero(seg_pos == s)
        ptr = np.asarray(seg.content_ptr)
        first[mine] = ptr[row_of_file[mine]]
        count[mine] = ptr[row_of_file[mine] + 1] - ptr[row_of_file[mine]]
        ftokens[mine] = np.asarray(seg.file_tokens)[row_of_file[mine]]
    file_ids = np.repeat(np.arange(n_files, dtype=np.int32), count)
    local = np.repeat(first - np.cumsum(count) + count, count) + np.arange(int(count.sum()))
    seg_of = seg_pos[file_ids] if len(file_ids) else np.zeros(0, np.int64)
    arrays = {name: np.zeros(len(file_ids), dtype=segs[0].chunk[name].dtype if segs else
                             np.int32) for name in CHUNK_ARRAYS}
    to_view = []
    for s, seg in enumerate(segs):
        mine = np.flatnonzero(seg_of == s)
        for name, out in arrays.items():
            out[mine] = np.asarray(seg.chunk[name])[local[mine]]
        mapping = np.full(len(seg.chunk["starts"]), -1, dtype=np.int64)
        mapping[local[mine]] = mine
        to_view.append(mapping)
    return IndexView(store, meta["files"], ftokens, file_ids, arrays["starts"], arrays["ends"],
                     arrays["kinds"], arrays["tokens"], arrays["lengths"], segs,
                     seg_of.astype(np.int16), local.astype(np.int32), to_view)


@dataclass
class _Pending:
    keys: list[bytes]
    built: Built


def _new_contents(store: Path, repo_dir: Path, files: FileFilter, chunking: ChunkConfig,
                  lexical: HashingEmbedder, intel: CodeIntel | None,
                  workers: int) -> tuple[list[str], list[bytes], _Pending | None]:
    """List the commit's files, key them, and chunk and featurize the contents no segment holds
    yet (None when there are none)."""
    paths = list_files(repo_dir, files)
    data = [(repo_dir / p).read_bytes() for p in paths]
    keys = [content_key(p, d) for p, d in zip(paths, data)]
    seg, _ = _locate(_catalogue(list_segments(store / "segments")),
                     np.array(keys, dtype=f"S{KEY_BYTES}"))
    new = np.flatnonzero(seg < 0).tolist()
    if not new:
        return paths, keys, None
    built = build_contents([(paths[i], data[i]) for i in new], chunking, lexical,
                           workers=workers, intel=intel)
    return paths, keys, _Pending([keys[i] for i in new], built)


def _write_view(tmp: Path, paths: list[str], keys: list[bytes], commit: str) -> None:
    (tmp / "view.json").write_text(json.dumps({
        "format": FORMAT_VERSION, "commit": commit, "files": paths,
        "keys": [k.hex() for k in keys]}))


_store_locks: weakref.WeakValueDictionary[tuple[int, str], asyncio.Lock] = \
    weakref.WeakValueDictionary()


async def open_or_build(index_root: Path, repo: str, commit: str, repo_dir: Path, *,
                        lexical: HashingEmbedder, chunking: ChunkConfig, files: FileFilter,
                        served: Embedder | None = None, batch_size: int = 256,
                        intel: CodeIntel | None = None, workers: int = 1) -> IndexView:
    """The view of `repo` at `commit` (checked out at `repo_dir`), indexing what is new (on
    `workers` processes when there is enough of it: `build_pool.build_contents`)."""
    store = Path(index_root) / repo_dirname(repo) / \
        store_fingerprint(lexical, chunking, served)[:16]
    final = store / "views" / view_name(commit, files)
    key = (id(asyncio.get_running_loop()), str(store))
    lock = _store_locks.get(key)
    if lock is None:
        lock = _store_locks[key] = asyncio.Lock()

    def index_new() -> tuple[list[str], list[bytes], _Pending | None]:
        # one builder per store across processes: two commits never index a content twice
        with file_lock(store / ".segments.lock"):
            paths, keys, pending = _new_contents(store, Path(repo_dir), files, chunking,
                                                 lexical, intel, workers)
            if pending is not None and served is None:
                _store(pending, None)
            return paths, keys, pending

    def _store(pending: _Pending, vectors: np.ndarray | None) -> None:
        built = pending.built
        write_segment(store / "segments", pending.keys, built.chunks, built.file_tokens,
                      built.rows, vectors)

    async def build(tmp: Path) -> None:
        async with lock:
            paths, keys, pending = await asyncio.to_thread(index_new)
        if pending is not None and served is not None:
            texts = pending.built.texts()  # the texts the rows featurize
            parts = [np.asarray(await served.embed(texts[i: i + batch_size]), np.float32)
                     for i in range(0, len(texts), batch_size)]
            vectors = np.concatenate(parts) if parts else np.zeros((0, served.dim), np.float32)
            await asyncio.to_thread(_store, pending, vectors)
        await asyncio.to_thread(_write_view, tmp, paths, keys, commit)

    (store / "views").mkdir(parents=True, exist_ok=True)
    path = await build_dir_once_async(final, build)
    return await asyncio.to_thread(open_view, store, path)
