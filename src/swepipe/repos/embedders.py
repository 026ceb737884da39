"""The local default embedder: hashed code-aware features, no download, deterministic.

Features of a text (`HashingEmbedder`):
- every identifier-like token (`[A-Za-z_][A-Za-z0-9_]*`), lowercased, whole;
- its parts split on snake_case and camelCase (`bulkCreate`, `bulk_create` -> `bulk`, `create`),
  each reduced by a light suffix stemmer (`serializer`, `serialization` -> `serial`);
- character trigrams of each part with boundary marks (`<bu`, `bul`, ... `te>`) at a lower
  weight, so near-misses (`nullable` / `null`, typos) still share mass.
Weights are TF-IDF-like: an identifier contributes `1 + log(count)` to each of its features and
each feature is scaled by its inverse document frequency, learned by `fit(corpus)` (the index
fits on the repository's chunks and persists the table). Features are hashed with blake2b (never
Python's salted `hash()`) into `buckets` ids, and the sparse vector is projected to `dim` by a
signed hashing projection; rows are L2-normalized, so inner product is cosine similarity.
Query features the corpus never contained are dropped: they cannot match, and in a projection
they only add noise.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import threading
from collections import Counter
from collections.abc import Sequence

import numpy as np
from pydantic import BaseModel, Field

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_SUFFIXES = ("izations", "ization", "ations", "ation", "izing", "ising", "ments", "ment",
             "ings", "ing", "izer", "iser", "ize", "ise", "ers", "er", "ied", "ies", "ed",
             "es", "ly", "s")
_STOP = frozenset(
    "a an and are as at be but by for from has have i if in into is it its of on or that the "
    "their then there these this to was were when which while will with self cls".split())


def stem(word: str) -> str:
    """A light suffix stemmer: enough to join `serializer`, `serialize`, `serialization`."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _hash64(feature: str) -> int:
    return int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")


class HashingEmbedderConfig(BaseModel):
    """Parameters of the local embedder; its config hash keys persisted indexes."""

    model_config = {"extra": "forbid", "frozen": True}

    dim: int = Field(default=1024, ge=16)
    """Output dimension of the projection."""
    buckets_log2: int = Field(default=20, ge=10, le=26)
    """Features are hashed into 2**buckets_log2 ids before projection (the IDF table size)."""
    ngram_weight: float = Field(default=0.35, ge=0)
    """Total weight of a word part's character trigrams relative to the part itself."""
    ident_weight: float = Field(default=0.5, ge=0)
    """Weight of a compound identifier as a whole (its parts always weigh 1)."""
    version: str = "1"
    """Bumped when feature extraction changes (old indexes are then rebuilt)."""


class HashingEmbedder:
    """The `Embedder` the retrieval localizer uses when no served model is configured."""

    def __init__(self, config: HashingEmbedderConfig | None = None,
                 idf: np.ndarray | None = None) -> None:
        self.config = config or HashingEmbedderConfig()
        self.dim = self.config.dim
        self.name = f"local-hash-v{self.config.version}-{self.dim}"
        self.idf = idf
        """Per-bucket inverse document frequency; None (unfitted) weighs all features 1."""
        self._mask = np.uint64((1 << self.config.buckets_log2) - 1)
        self._lock = threading.Lock()
        self._ident_ids: dict[str, int] = {}
        self._ptr: list[int] = [0]
        self._buckets: list[int] = []
        self._weights: list[float] = []
        self._arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    # ------------------------------------------------------------ features

    def _features(self, ident: str) -> dict[str, float]:
        parts = [p.lower() for p in _PARTS.findall(ident)]
        feats: dict[str, float] = {}
        lower = ident.lower()
        if len(parts) != 1 or parts[0] != lower:
            feats["i:" + lower] = self.config.ident_weight
        for part in parts:
            if part in _STOP or len(part) < 2:
                continue
            feats["w:" + stem(part)] = feats.get("w:" + stem(part), 0.0) + 1.0
            grams = [f"<{part}>"[i: i + 3] for i in range(len(part))]
            for g in grams:
                feats["g:" + g] = feats.get("g:" + g, 0.0) + self.config.ngram_weight / len(grams)
        return feats

    def _ident_id(self, ident: str) -> int:
        found = self._ident_ids.get(ident)
        if found is not None:
            return found
        with self._lock:
            if ident in self._ident_ids:
                return self._ident_ids[ident]
            for feature, weight in self._features(ident).items():
                self._buckets.append(_hash64(feature))
                self._weights.append(weight)
            self._ptr.append(len(self._buckets))
            self._arrays = None
            self._ident_ids[ident] = len(self._ptr) - 2
            return self._ident_ids[ident]

    def _tables(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        with self._lock:
            if self._arrays is None:
                self._arrays = (np.asarray(self._ptr, dtype=np.int64),
                                np.asarray(self._buckets, dtype=np.uint64) & self._mask,
                                np.asarray(self._weights, dtype=np.float32))
            return self._arrays

    def sparse(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Sparse features as parallel arrays (row, bucket, weight); not yet IDF-weighted.

        A bucket may repeat within a row (a part shared by two identifiers); consumers sum."""
        rows: list[int] = []
        idents: list[int] = []
        counts: list[int] = []
        for row, text in enumerate(texts):
            counted = Counter(_IDENT.findall(text))
            rows.extend([row] * len(counted))
            idents.extend(map(self._ident_id, counted.keys()))
            counts.extend(counted.values())
        ptr, buckets, weights = self._tables()
        ids = np.asarray(idents, dtype=np.int64)
        n = ptr[ids + 1] - ptr[ids]
        starts = np.repeat(ptr[ids], n)
        offsets = np.arange(int(n.sum()), dtype=np.int64) - np.repeat(np.cumsum(n) - n, n)
        idx = starts + offsets
        tf = np.repeat(1.0 + np.log(np.asarray(counts, dtype=np.float32)), n)
        return np.repeat(np.asarray(rows, dtype=np.int64), n), buckets[idx], weights[idx] * tf

    # ------------------------------------------------------------ fit / embed

    def fit(self, texts: Sequence[str]) -> HashingEmbedder:
        """A copy whose IDF table comes from `texts` (the corpus the index is built on)."""
        rows, buckets, _ = self.sparse(texts)
        size = 1 << self.config.buckets_log2
        pairs = np.unique(rows.astype(np.uint64) << np.uint64(self.config.buckets_log2) | buckets)
        df = np.bincount((pairs & self._mask).astype(np.int64), minlength=size)
        n = len(texts)
        idf = np.where(df > 0, np.log((n + 1) / (df + 1)) + 1.0, 0.0).astype(np.float32)
        fitted = HashingEmbedder(self.config, idf)
        fitted._ident_ids, fitted._ptr = self._ident_ids, self._ptr  # share the feature cache
        fitted._buckets, fitted._weights = self._buckets, self._weights
        return fitted

    def embed_sync(self, texts: Sequence[str]) -> np.ndarray:
        """Shape (len(texts), dim), float32, rows L2-normalized (zero rows stay zero)."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        step = 4096  # bounds the dense bincount buffer to step * dim floats
        for lo in range(0, len(texts), step):
            batch = texts[lo: lo + step]
            rows, buckets, weights = self.sparse(batch)
            if self.idf is not None:
                weights = weights * self.idf[buckets.astype(np.int64)]
            # Signed hashing projection, derived from the bucket id so it is fixed forever.
            mixed = buckets * np.uint64(0x9E3779B97F4A7C15)
            col = ((mixed >> np.uint64(33)) % np.uint64(self.dim)).astype(np.int64)
            sign = np.where((mixed >> np.uint64(63)) == 1, -1.0, 1.0)
            flat = np.bincount(rows * self.dim + col, weights=weights * sign,
                               minlength=len(batch) * self.dim)
            out[lo: lo + len(batch)] = flat.reshape(len(batch), self.dim)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out

    async def embed(self, texts: Sequence[str]) -> np.ndarray:
        """The `Embedder` protocol: computed in a worker thread."""
        return await asyncio.to_thread(self.embed_sync, list(texts))

    def config_hash(self) -> str:
        """Identity of what this embedder computes (the fitted table is keyed by its corpus)."""
        body = self.config.model_dump_json()
        return hashlib.sha256(f"{self.name}|{body}".encode()).hexdigest()

