"""Chunking and featurizing an index build's new file contents, on worker processes when it pays.

`build_contents(items, ...)` turns (path, bytes) pairs into their chunks, estimated tokens and
sparse feature rows (one row per chunk, chunks in item order). First, the Python files are cut
into top-level blocks and the blocks an earlier build of this process has cut come from its
memo (`block_reuse`); the other blocks are cut and featurized, then the files whose blocks did
not all parse cleanly (and the files that are not split) are chunked whole. Each of these two
steps runs on a process pool when there are `workers > 1` and at least `POOL_MIN_BYTES` of
source: the items are cut into contiguous batches of about equal bytes and the parts joined in
item order. Every chunk's row depends on its text alone (`HashingEmbedder.features`: blake2b
ids, sums in a fixed order), so the result, and the segment written from it, is byte-for-byte
the one chunking every file whole in process gives.

The pool is persistent, one per worker count and process, started on first use: its workers keep
their identifier tables (`embedders._shared_table`) and parsers warm from one build to the next.
Workers come from a `forkserver` that preloads this module (numpy, tree-sitter, the chunker):
forking the parent itself is unsafe, as it runs an event loop and threads, and a spawned
worker would import everything afresh. A worker's exception or death is a `StoreError` naming
the batch; nothing has been written then (segments are written by the caller from the result).

Workers report the CPU seconds of their tasks (`worker_cpu_seconds()`, a process-wide total),
since the parent's `time.process_time()` does not see them.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Any

import numpy as np

from swepipe.errors import StoreError
from swepipe.models.tokens import estimate_tokens
from swepipe.repos.block_reuse import BlockBuild, chunk_block, memo_for, split_file
from swepipe.repos.chunks import Chunk, ChunkConfig, chunk_source, chunk_text
from swepipe.repos.code import CodeIntel
from swepipe.repos.embedders import HashingEmbedder, HashingEmbedderConfig
from swepipe.repos.lexical import SparseRows, concat_rows, row_range

POOL_MIN_BYTES = 256_000
"""Less new source than this is built in process: below it, shipping it to the workers and
the results back costs what the second core saves. Measured on django files, in process / on
two workers: 100 KB 0.027 / 0.029 s, 200 KB 0.049 / 0.034 s, 400 KB 0.090 / 0.066 s."""
BATCHES_PER_WORKER = 10
"""More batches than workers, so that one batch of slow files does not leave a core idle
(generated files such as sympy's rubi rules parse at a third of the usual bytes per second):
measured 4 / 10 / 20 on sympy's 8 development instances, 27.0 / 24.9 / 27.9 s; django 11.2 /
9.8 s (4 / 10)."""


@dataclass
class Built:
    """The chunks, token estimates and feature rows of a build's new contents."""

    chunks: list[list[Chunk] | None]
    """Per item; None only in a block build, for a block that does not parse cleanly."""
    file_tokens: list[int]
    rows: SparseRows

    def texts(self) -> list[str]:
        """What the rows featurize (a served embedder embeds the same), chunks in order."""
        return [chunk_text(c) for group in self.chunks if group is not None for c in group]


def build_in_process(items: Sequence[tuple[str, str]], chunking: ChunkConfig,
                     lexical: HashingEmbedder, intel: CodeIntel | None = None, *,
                     blocks: bool = False) -> Built:
    """Chunk and featurize `items` (path, decoded text) in this process. With `blocks`,
    each item is a top-level block (`block_reuse.chunk_block`): one that does not parse cleanly
    gets None for chunks and no rows."""
    chunks, tokens = [], []
    for path, text in items:
        chunks.append(chunk_block(path, text, chunking) if blocks else
                      chunk_source(path, text, config=chunking, intel=intel))
        tokens.append(estimate_tokens(text))
    return Built(chunks, tokens, lexical.features(
        [chunk_text(c) for group in chunks if group is not None for c in group]))


def _task(items: Sequence[tuple[str, str]], chunking: ChunkConfig,
          features: HashingEmbedderConfig, blocks: bool) -> tuple[Built, float]:
    """A worker's batch, with the CPU seconds it took."""
    start = time.process_time()
    built = build_in_process(items, chunking, HashingEmbedder(features), blocks=blocks)
    return built, time.process_time() - start


def build_contents(items: Sequence[tuple[str, bytes]], chunking: ChunkConfig,
                   lexical: HashingEmbedder, *, workers: int = 1,
                   intel: CodeIntel | None = None) -> Built:
    """Chunk and featurize `items`, reusing the unchanged top-level blocks of earlier versions
    of the files (`block_reuse`), on `workers` processes when there is enough to do.

    A caller's `intel` lives in this process (its cache, its parse count), so with one the
    build stays here and parses every file whole."""
    texts = [data.decode("utf-8", errors="replace") for _, data in items]
    if intel is not None:
        return build_in_process([(p, t) for (p, _), t in zip(items, texts)], chunking, lexical,
                                intel)
    reuse = BlockBuild(memo_for(chunking, lexical.config),
                       [split_file(path, text) for (path, _), text in zip(items, texts)])
    missing = reuse.missing()
    fresh = _build([(b.path, b.text) for b in missing], chunking, lexical, workers, blocks=True)
    reuse.record(missing, fresh.chunks, fresh.rows)
    whole = reuse.whole_files()
    rebuilt = _build([(items[i][0], texts[i]) for i in whole], chunking, lexical, workers)
    rebuilt_at = dict(zip(whole, range(len(whole))))
    row_at = np.cumsum([0] + [len(c) for c in rebuilt.chunks]).tolist()
    chunks: list[list[Chunk] | None] = []
    rows: list[SparseRows] = []
    for i in range(len(items)):
        n = rebuilt_at.get(i)
        if n is None:
            file_chunks, file_rows = reuse.file_chunks(i)
            chunks.append(file_chunks)
            rows += file_rows
        else:
            chunks.append(rebuilt.chunks[n])
            rows.append(row_range(rebuilt.rows, row_at[n], row_at[n + 1]))
    return Built(chunks, [estimate_tokens(t) for t in texts], concat_rows(rows))


def _build(items: Sequence[tuple[str, str]], chunking: ChunkConfig, lexical: HashingEmbedder,
           workers: int, *, blocks: bool = False) -> Built:
    """`build_in_process`, on the pool when there are workers and enough source for them."""
    if workers <= 1 or sum(len(text) for _, text in items) < POOL_MIN_BYTES:
        return build_in_process(items, chunking, lexical, blocks=blocks)
    batches = _split(items, workers * BATCHES_PER_WORKER)
    parts = run_in_workers(_task, [(b, chunking, lexical.config, blocks) for b in batches],
                           workers, [f"{b[0][0]} .. {b[-1][0]}" for b in batches])
    with _lock:
        global _worker_cpu
        _worker_cpu += sum(cpu for _, cpu in parts)
    return Built([c for built, _ in parts for c in built.chunks],
                 [t for built, _ in parts for t in built.file_tokens],
                 concat_rows([built.rows for built, _ in parts]))


def _split(items: Sequence[tuple[str, str]], n: int) -> list[Sequence[tuple[str, str]]]:
    """At most `n` contiguous, non-empty batches of about equal bytes (work is ~ bytes)."""
    ends = np.cumsum([len(data) + 1 for _, data in items])
    cuts = np.searchsorted(ends, ends[-1] * np.arange(1, n) / n, side="right")
    bounds = sorted({0, *cuts.tolist(), len(items)})
    return [items[a:b] for a, b in zip(bounds, bounds[1:])]


_lock = threading.Lock()
_pools: dict[int, ProcessPoolExecutor] = {}
_worker_cpu = 0.0


def worker_cpu_seconds() -> float:
    """CPU seconds the pool's workers spent on this process's builds so far (their start-up,
    forked from the preloaded server, is not counted)."""
    with _lock:
        return _worker_cpu


def _pool(workers: int) -> ProcessPoolExecutor:
    with _lock:
        pool = _pools.get(workers)
        if pool is None:
            context = multiprocessing.get_context("forkserver")
            # takes effect when the server starts (the first pool of the process): its workers
            # are then forked with numpy, tree-sitter and the chunker imported
            context.set_forkserver_preload([__name__])
            pool = _pools[workers] = ProcessPoolExecutor(workers, mp_context=context)
        return pool


def run_in_workers(fn: Callable[..., Any], calls: Sequence[tuple], workers: int,
                   labels: Sequence[str] | None = None) -> list[Any]:
    """`[fn(*args) for args in calls]` on the pool of `workers` processes, in order; `fn` must
    be importable by name. A failed call is a `StoreError` naming it (by `labels`)."""
    pool = _pool(workers)
    futures: list[Future] = []
    try:
        futures = [pool.submit(fn, *args) for args in calls]
        return [_result(future, f"batch {i}" + (f" ({labels[i]})" if labels else ""))
                for i, future in enumerate(futures)]
    except BrokenProcessPool as exc:
        with _lock:  # the next build starts a fresh pool
            if _pools.get(workers) is pool:
                del _pools[workers]
        raise StoreError("an index build worker process died (killed, out of memory?); "
                         "nothing was written, retry the build") from exc
    finally:
        for future in futures:
            future.cancel()  # after a failure: the batches not started yet are not run


def _result(future: Future, label: str) -> Any:
    try:
        return future.result()
    except BrokenProcessPool:
        raise  # every pending call fails with it, not only the dead worker's: not this batch's
    except Exception as exc:
        raise StoreError(f"index build worker failed on {label}: {type(exc).__name__}: "
                         f"{exc}") from exc
