"""Sparse feature rows and exact BM25 re-scoring of retrieval candidates.

The local embedder's features live in a space of 2**20 hashed ids; projecting them to a few
hundred dimensions for faiss adds collision noise that is small per pair but decides close
calls among tens of thousands of chunks. So the index keeps each chunk's sparse row too (CSR
arrays) and re-scores faiss' top candidates exactly with BM25 over the same features (split and
stemmed identifier parts, whole identifiers, character trigrams). On the generated benchmark this
is what lifts the local embedder above BM25 on raw tokens; see docs/localization.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SparseRows:
    """Rows of (bucket, weight) pairs in CSR form; buckets are unique and sorted per row."""

    indptr: np.ndarray
    """int64, len(rows) + 1."""
    buckets: np.ndarray
    """uint32 feature ids."""
    weights: np.ndarray
    """float32 term weights (identifier-level `1 + log(count)` summed per feature)."""

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    def lengths(self) -> np.ndarray:
        """Per-row total weight: BM25's document length."""
        sums = np.add.reduceat(self.weights, self.indptr[:-1]) if len(self.weights) else \
            np.zeros(self.n_rows)
        sums = np.asarray(sums, dtype=np.float64)
        sums[np.diff(self.indptr) == 0] = 0.0  # reduceat repeats a value for empty rows
        return sums


def aggregate(rows: np.ndarray, buckets: np.ndarray, weights: np.ndarray,
              n_rows: int) -> SparseRows:
    """Sum duplicate (row, bucket) entries and return CSR rows (vectorized: one sort)."""
    if len(rows) == 0:
        return SparseRows(np.zeros(n_rows + 1, dtype=np.int64), np.zeros(0, dtype=np.uint32),
                          np.zeros(0, dtype=np.float32))
    keys = (rows.astype(np.uint64) << np.uint64(32)) | buckets.astype(np.uint64)
    order = np.argsort(keys)
    keys = keys[order]
    first = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    sums = np.add.reduceat(weights[order].astype(np.float32), first)
    uniq = keys[first]
    row_of = (uniq >> np.uint64(32)).astype(np.int64)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_of, minlength=n_rows), out=indptr[1:])
    return SparseRows(indptr, (uniq & np.uint64(0xFFFFFFFF)).astype(np.uint32),
                      sums.astype(np.float32))


def bm25_idf(df: np.ndarray, n_docs: int) -> np.ndarray:
    """Okapi BM25's idf, `log(1 + (N - df + 0.5) / (df + 0.5))`, 0 for absent features."""
    df = df.astype(np.float64)
    return np.where(df > 0, np.log1p((n_docs - df + 0.5) / (df + 0.5)), 0.0).astype(np.float32)


def bm25_rescore(query: SparseRows, docs: SparseRows, candidates: np.ndarray,
                 doc_len: np.ndarray, idf: np.ndarray, *, k1: float = 1.2,
                 b: float = 0.75) -> np.ndarray:
    """BM25 of one query row against the candidate doc rows, all arrays, no Python loops."""
    q_buckets = query.buckets[query.indptr[0]: query.indptr[1]]
    q_weights = query.weights[query.indptr[0]: query.indptr[1]]
    if len(candidates) == 0 or len(q_buckets) == 0:
        return np.zeros(len(candidates), dtype=np.float32)
    starts, ends = docs.indptr[candidates], docs.indptr[candidates + 1]
    n = ends - starts
    idx = np.repeat(starts, n) + (np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n))
    owner = np.repeat(np.arange(len(candidates)), n)
    cand = docs.buckets[idx]
    pos = np.minimum(np.searchsorted(q_buckets, cand), len(q_buckets) - 1)
    hit = q_buckets[pos] == cand
    tf = docs.weights[idx][hit]
    owner, pos = owner[hit], pos[hit]
    avg = float(doc_len.mean()) or 1.0
    norm = k1 * (1 - b + b * doc_len[candidates][owner] / avg)
    score = idf[cand[hit]] * tf * (k1 + 1) / (tf + norm) * q_weights[pos]
    return np.bincount(owner, weights=score, minlength=len(candidates)).astype(np.float32)
