"""Write throughput of batched stage rows (target >= 50,000 rows/s), and export + import of
1,000,000 rows with the time and bytes on disk.

    python benchmarks/store_throughput.py [--instances 2000] [--samples 40] [--export-rows 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).parent))
from _common import synthetic_instances  # noqa: E402

from swepipe import event_loop  # noqa: E402
from swepipe.store import Store  # noqa: E402
from swepipe.store.exchange import export_store, import_store  # noqa: E402
from swepipe.store.stage_cache import StageCache  # noqa: E402
from swepipe.store.store import insert_rows  # noqa: E402
from swepipe.store.writer import StoreWriter  # noqa: E402
from swepipe.types import Patch  # noqa: E402


async def write_stage(store: Store, instances, outputs) -> int:
    async with StoreWriter(store) as writer:
        cache = StageCache(store, writer, "generate", "g" * 64)
        cache.prefetch(instances)

        def compute(i):
            async def run():
                return outputs[i.instance_id]
            return run

        results = await asyncio.gather(*(cache.get_or_compute(i, compute(i)) for i in instances))
        print(f"  {writer.transactions} transactions for {len(results)} stage results")
    return sum(len(r.value) for r in results) + len(results)  # outputs + stage_runs rows


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--export-rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        store = Store(tmp / "w.duckdb")
        store.schema_version()
        instances = synthetic_instances(args.instances)
        # the components' work (building Patch objects) is not the store's: done before timing
        outputs = {i.instance_id: [Patch(diff=f"diff --git a/x b/x\n@@ {i.instance_id} {k}\n+l\n",
                                         sample_idx=k, files=["x"]) for k in range(args.samples)]
                   for i in instances}
        t0 = time.perf_counter()
        rows = event_loop.run(write_stage(store, instances, outputs))
        elapsed = time.perf_counter() - t0
        rate = rows / elapsed
        print(f"write: {rows} rows in {elapsed:.2f} s = {rate:,.0f} rows/s "
              f"(target >= 50,000; {rate / 50_000:.2f}x target): "
              f"{'PASS' if rate >= 50_000 else 'FAIL'}")

        n = args.export_rows
        big = Store(tmp / "big.duckdb")
        rng = np.random.default_rng(0)
        start = rng.integers(1, 3000, n)
        # realistic spread: 10,000 instances, 100 pointers each, paths from a 5,000-file repo
        table = pa.table({
            "config_hash": pa.array(["c" * 64] * n), "instance_id": [f"i-{k // 100}" for k in range(n)],
            "attempt": pa.array([1] * n, pa.int32()), "sample_idx": [k % 100 // 25 for k in range(n)],
            "pointer_idx": [k % 25 for k in range(n)],
            "file_path": [f"pkg/sub{p % 40}/module_{p}.py" for p in rng.integers(0, 5000, n)],
            "start_line": start, "end_line": start + rng.integers(0, 80, n),
            "kind": ["lines"] * n, "rank": [k % 25 for k in range(n)],
            "score": rng.random(n), "resolved": [True] * n})
        with big.transaction() as conn:
            insert_rows(conn, "localizations", table)
        t0 = time.perf_counter()
        export_store(big, tmp / "export")
        t_export = time.perf_counter() - t0
        t0 = time.perf_counter()
        import_store(Store(tmp / "copy.duckdb"), tmp / "export")
        t_import = time.perf_counter() - t0
        print(f"export {n:,} rows: {t_export:.2f} s, {folder_bytes(tmp / 'export') / 1e6:.1f} MB "
              f"Parquet; import: {t_import:.2f} s; store file {big.path.stat().st_size / 1e6:.1f} MB "
              f"-> {(tmp / 'copy.duckdb').stat().st_size / 1e6:.1f} MB after import")


if __name__ == "__main__":
    main()
