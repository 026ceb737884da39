"""Sparse feature rows and exact BM25 over them.

The local embedder's features (split and stemmed identifier parts, whole identifiers, character
trigrams) live in a space of 2**20 hashed ids. The index keeps them as an inverted file
(`repos.segments`) and scores every chunk of a view exactly with BM25 from the postings of the
query's terms: no projection (whose collisions decided close calls) and no candidate cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, Field


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


def concat_rows(parts: Sequence[SparseRows]) -> SparseRows:
    """The rows of `parts`, one part after another."""
    if not parts:
        return aggregate(np.zeros(0, np.int64), np.zeros(0, np.uint32), np.zeros(0), 0)
    offsets = np.cumsum([0] + [len(p.buckets) for p in parts[:-1]])
    indptr = np.concatenate([[0]] + [p.indptr[1:] + off for p, off in zip(parts, offsets)])
    return SparseRows(indptr.astype(np.int64), np.concatenate([p.buckets for p in parts]),
                      np.concatenate([p.weights for p in parts]))


def row_range(rows: SparseRows, start: int, stop: int) -> SparseRows:
    """Rows `start..stop-1` of `rows`, copied (a kept part must not pin the whole)."""
    a, b = int(rows.indptr[start]), int(rows.indptr[stop])
    return SparseRows(rows.indptr[start: stop + 1] - a, rows.buckets[a:b].copy(),
                      rows.weights[a:b].copy())


def aggregate(rows: np.ndarray, buckets: np.ndarray, weights: np.ndarray,
              n_rows: int) -> SparseRows:
    """Sum duplicate (row, bucket) entries and return CSR rows (vectorized: one sort)."""
    if len(rows) == 0:
        return SparseRows(np.zeros(n_rows + 1, dtype=np.int64), np.zeros(0, dtype=np.uint32),
                          np.zeros(0, dtype=np.float32))
    keys = (rows.astype(np.uint64) << np.uint64(32)) | buckets.astype(np.uint64)
    # stable: a (row, bucket)'s weights are then summed in their order within the row, so a
    # row's float32 sums never depend on the other rows (index builds split rows over workers)
    order = np.argsort(keys, kind="stable")
    keys = keys[order]
    first = np.flatnonzero(np.concatenate(([True], keys[1:] != keys[:-1])))
    sums = np.add.reduceat(weights[order].astype(np.float32), first)
    uniq = keys[first]
    row_of = (uniq >> np.uint64(32)).astype(np.int64)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(row_of, minlength=n_rows), out=indptr[1:])
    return SparseRows(indptr, (uniq & np.uint64(0xFFFFFFFF)).astype(np.uint32),
                      sums.astype(np.float32))


class Bm25Params(BaseModel):
    """Okapi BM25's two constants (the common defaults)."""

    model_config = {"extra": "forbid", "frozen": True}

    k1: float = Field(default=1.2, ge=0)
    """Term frequency saturation."""
    b: float = Field(default=0.75, ge=0, le=1)
    """Document length normalization."""


def bm25_idf(df: np.ndarray, n_docs: int) -> np.ndarray:
    """Okapi BM25's idf, `log(1 + (N - df + 0.5) / (df + 0.5))`, 0 for absent features."""
    df = df.astype(np.float64)
    return np.where(df > 0, np.log1p((n_docs - df + 0.5) / (df + 0.5)), 0.0).astype(np.float32)


def bm25_scores(term: np.ndarray, doc: np.ndarray, tf: np.ndarray, query_weights: np.ndarray,
                doc_len: np.ndarray, params: Bm25Params) -> np.ndarray:
    """BM25 of every document from the postings of the query's terms, all arrays: posting i
    says document `doc[i]` holds query term `term[i]` with weight `tf[i]`. Document
    frequencies are counted from the postings themselves (buckets are unique per row)."""
    n_docs = len(doc_len)
    if n_docs == 0 or len(doc) == 0:
        return np.zeros(n_docs, dtype=np.float32)
    idf = bm25_idf(np.bincount(term, minlength=len(query_weights)), n_docs)
    avg = float(doc_len.mean()) or 1.0
    k1, b = params.k1, params.b
    norm = k1 * (1 - b + b * doc_len[doc] / avg)
    score = idf[term] * tf * (k1 + 1) / (tf + norm) * query_weights[term]
    return np.bincount(doc, weights=score, minlength=n_docs).astype(np.float32)
