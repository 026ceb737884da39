"""Similarity throughput: the SQL path against rapidfuzz directly, and against a difflib loop.

Pairs are (candidate, gold) with realistic diff sizes: gold patches of SWE-bench Lite and Verified
(../shared/data), candidates made by perturbing them (`rewards.demo.perturb_diff`), repeated to
`--pairs`. Three timings:
  sql      `SELECT levenshtein_similarity(candidate, gold) FROM pairs` in DuckDB (the Arrow UDF
           over rapidfuzz's batch scorer, as `swepipe rewards` runs it);
  direct   `rapidfuzz.process.cpdist(..., workers=-1)` on the same Python lists;
  difflib  a Python loop of `difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()` on a
           sample (`--difflib-sample`), extrapolated per pair.

    python benchmarks/similarity.py                 # 1,000,000 pairs
    python benchmarks/similarity.py --pairs 100000  # quick
"""

from __future__ import annotations

import argparse
import difflib
import json
import random
import time

import duckdb
import pyarrow as pa
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from swepipe.rewards.demo import perturb_diff, shared_data_dir
from swepipe.rewards.udfs import register_udfs


def load_pairs(n: int, seed: int = 0) -> tuple[list[str], list[str]]:
    data = shared_data_dir()
    golds = []
    for rel in ("swe-bench-lite/test.jsonl", "swe-bench-verified/partial.jsonl"):
        golds += [json.loads(line)["patch"] for line in (data / rel).open()]
    rng = random.Random(seed)
    # a pool of distinct candidates per gold patch, reused to reach n pairs
    pool = [(perturb_diff(g, rng, rng.choice([0.01, 0.05, 0.2])), g)
            for g in golds for _ in range(4)]
    picks = [pool[rng.randrange(len(pool))] for _ in range(n)]
    return [c for c, _ in picks], [g for _, g in picks]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=1_000_000)
    parser.add_argument("--difflib-sample", type=int, default=200)
    args = parser.parse_args()
    cands, golds = load_pairs(args.pairs)
    chars = sum(map(len, cands)) / len(cands)
    print(f"{args.pairs:,} pairs, mean candidate {chars:,.0f} chars")

    conn = duckdb.connect()
    register_udfs(conn)
    conn.register("pairs_arrow", pa.table({"candidate": cands, "gold": golds}))
    conn.execute("CREATE TABLE pairs AS SELECT * FROM pairs_arrow")
    t0 = time.perf_counter()
    sql_sum = conn.execute("SELECT sum(levenshtein_similarity(candidate, gold)) "
                           "FROM pairs").fetchall()[0][0]
    sql_s = time.perf_counter() - t0
    conn.close()

    t0 = time.perf_counter()
    direct = process.cpdist(cands, golds, scorer=Levenshtein.normalized_similarity, workers=-1)
    direct_s = time.perf_counter() - t0
    assert abs(float(direct.sum()) - sql_sum) < 1e-6 * args.pairs, "SQL and direct disagree"

    k = min(args.difflib_sample, args.pairs)
    t0 = time.perf_counter()
    for a, b in zip(cands[:k], golds[:k]):
        difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
    difflib_per_pair = (time.perf_counter() - t0) / k
    print(f"sql (DuckDB UDF -> rapidfuzz cpdist): {sql_s:8.2f} s  "
          f"({args.pairs / sql_s:,.0f} pairs/s)")
    print(f"direct rapidfuzz cpdist:              {direct_s:8.2f} s  "
          f"({args.pairs / direct_s:,.0f} pairs/s)")
    print(f"sql / direct:                         {sql_s / direct_s:8.2f}x  (target <= 1.25x)")
    print(f"difflib loop ({k} pairs sampled):    {difflib_per_pair * 1e3:8.2f} ms/pair -> "
          f"{difflib_per_pair * args.pairs:,.0f} s for all; "
          f"{difflib_per_pair * args.pairs / sql_s:,.0f}x slower than the SQL path")


if __name__ == "__main__":
    main()
