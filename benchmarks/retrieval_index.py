"""Retrieval index benchmark: the retrieval localizer against BM25 (bm25s), same files, same run.

    .venv/bin/python benchmarks/retrieval_index.py [--files 3000] [--queries 300] [--keep DIR]

Prints, for a generated repository (benchmarks/synthrepo.py, about django's size):
- cold index build (list, parse, chunk, fit, embed, write; target < 20 s on 2 cores),
  reopening the persisted index (< 1 s) and one query (< 50 ms), each next to bm25s' index and
  query time on the same chunks, with the ratio;
- file recall@1/5/10 on generated issue-like queries, per query style, for the retrieval
  localizer (exact BM25 over its code-aware chunk features) and three BM25 variants: bm25s'
  default tokenizer over the same chunks (files scored by their best chunk) and over whole
  files (SWE-bench's BM25 baseline), and bm25s over whole files with the embedder's code-aware
  tokens (split identifiers, stemmed) as the strongest lexical baseline.
Exits non-zero when no query is generated or the reopened index differs from the built one (a
failing build or query raises, which exits non-zero too).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import bm25s
import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from synthrepo import generate_queries, generate_repo  # noqa: E402

from swepipe import event_loop  # noqa: E402
from swepipe.localize.retrieval import RetrievalLocalizer, RetrievalLocalizerConfig  # noqa: E402
from swepipe.protocols import StageContext  # noqa: E402
from swepipe.repos.chunks import chunk_source, chunk_text  # noqa: E402
from swepipe.repos.embedders import HashingEmbedder, identifiers, stem, word_parts  # noqa: E402
from swepipe.repos.files import list_files  # noqa: E402
from swepipe.repos.index import IndexView, open_or_build  # noqa: E402
from swepipe.types import Instance  # noqa: E402

KS = (1, 5, 10)
REPO, COMMIT = "bench/synth", "0" * 40


def code_tokens(text: str) -> list[str]:
    """The embedder's word features (split identifiers, stemmed) as plain BM25 tokens."""
    out: list[str] = []
    for ident in identifiers(text):
        out.extend(stem(p) for p in word_parts(ident) if len(p) > 1)
    return out


def recall(ranked: list[str], gold: str) -> dict[int, float]:
    return {k: float(gold in ranked[:k]) for k in KS}


def bm25_rank(retriever: bm25s.BM25, query_tokens, doc_files: list[str], k: int) -> list[str]:
    docs, scores = retriever.retrieve(query_tokens, k=min(k, len(doc_files)),
                                      show_progress=False, n_threads=1)
    seen: dict[str, None] = {}
    for d in docs[0]:
        seen.setdefault(doc_files[int(d)], None)
    return list(seen)


async def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=3000)
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--keep", type=Path, default=None, help="work dir to keep (default: temp)")
    args = ap.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="swepipe-bench-"))
    try:
        return await run(args, work)
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)


async def run(args: argparse.Namespace, work: Path) -> int:
    repo_dir, index_root = work / "repo", work / "indexes"
    shutil.rmtree(index_root, ignore_errors=True)
    if not repo_dir.exists():
        targets = generate_repo(repo_dir, args.files)
    else:
        targets = generate_repo(work / "regen", args.files)  # same seed: same targets
        shutil.rmtree(work / "regen")
    queries = generate_queries(targets, args.queries)
    if not queries:
        print(f"FAILED: no queries generated (--queries {args.queries})")
        return 1
    cfg = RetrievalLocalizerConfig()
    print(f"repository: {args.files} files under {repo_dir}")

    t0 = time.perf_counter()
    index = await open_or_build(index_root, REPO, COMMIT, repo_dir, lexical=HashingEmbedder(),
                                chunking=cfg.chunking, files=cfg.files)
    build_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    reopened = await open_or_build(index_root, REPO, COMMIT, repo_dir, lexical=HashingEmbedder(),
                                   chunking=cfg.chunking, files=cfg.files)
    reopen_s = time.perf_counter() - t0
    if not isinstance(reopened, IndexView) or reopened.size != index.size:
        print(f"FAILED: reopening the index did not give the one built ({index.size} chunks)")
        return 1
    localizer = RetrievalLocalizer(cfg.model_copy(update={"index_dir": index_root,
                                                           "top_chunks": 0}))
    ctx = StageContext(model=None, repo_dir=repo_dir)

    # BM25 on the very same chunk texts (the chunking is not part of its timed index build).
    chunks = [c for f in list_files(repo_dir, cfg.files)
              for c in chunk_source(f, (repo_dir / f).read_text(), config=cfg.chunking)]
    texts = [chunk_text(c) for c in chunks]
    chunk_files = [c.file_path for c in chunks]
    t0 = time.perf_counter()
    bm_chunks = bm25s.BM25()
    bm_chunks.index(bm25s.tokenize(texts, show_progress=False), show_progress=False)
    bm_build_s = time.perf_counter() - t0

    files = sorted(set(chunk_files))
    file_texts = [f"{f}\n" + (repo_dir / f).read_text() for f in files]
    bm_files = bm25s.BM25()
    bm_files.index(bm25s.tokenize(file_texts, show_progress=False), show_progress=False)
    bm_code = bm25s.BM25()
    bm_code.index([code_tokens(t) for t in file_texts], show_progress=False)

    hits: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    q_emb, q_bm = [], []
    for text, gold, style in queries:
        t0 = time.perf_counter()
        found = await localizer.locate(Instance(instance_id="q", repo=REPO, base_commit=COMMIT,
                                                problem_statement=text), ctx)
        ranked = [p.file_path for p in found]
        q_emb.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        ranked_bm = bm25_rank(bm_chunks, bm25s.tokenize([text], show_progress=False),
                              chunk_files, 300)
        q_bm.append(time.perf_counter() - t0)
        variants = {
            "retrieval (chunks)": ranked,
            "bm25s default (chunks)": ranked_bm,
            "bm25s default (files)": bm25_rank(
                bm_files, bm25s.tokenize([text], show_progress=False), files, 10),
            "bm25s code tokens (files)": bm25_rank(bm_code, [code_tokens(text)], files, 10),
        }
        for name, r in variants.items():
            for k, v in recall(r, gold).items():
                hits[name][f"{style}@{k}"].append(v)
                hits[name][f"all@{k}"].append(v)

    emb_q, bm_q = statistics.median(q_emb), statistics.median(q_bm)
    print(f"chunks: {index.size}  files: {len(files)}  queries: {len(queries)}\n")
    print(f"{'':28}{'retrieval':>14}{'bm25s':>12}{'ratio':>9}   target")
    print(f"{'cold index build (s)':28}{build_s:14.2f}{bm_build_s:12.2f}"
          f"{build_s / bm_build_s:9.2f}   < 20 s (bm25s: tokenize+index only)")
    print(f"{'reopen index (s)':28}{reopen_s:14.3f}{'-':>12}{'':9}   < 1 s")
    print(f"{'one query, median (ms)':28}{emb_q * 1e3:14.2f}{bm_q * 1e3:12.2f}"
          f"{emb_q / bm_q:9.2f}   < 50 ms")
    print()
    cols = [f"{s}@{k}" for s in ("all", "exact", "partial", "paraphrase") for k in KS]
    print(f"{'file recall':28}" + "".join(f"{c:>14}" for c in cols))
    for name, table in hits.items():
        print(f"{name:28}" + "".join(f"{np.mean(table[c]):14.3f}" for c in cols))
    return 0


if __name__ == "__main__":
    sys.exit(event_loop.run(main()))
