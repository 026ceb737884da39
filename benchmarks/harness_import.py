"""Benchmark: importing the real SWE-bench harness log folders (`swepipe import-evaluation`).

Both folders of ../shared/data/harness-logs/ into a fresh store holding SWE-bench Lite (test +
dev): per folder the seconds of the whole import (read, grade every log, write candidates,
`test_runs` and `harness_verdicts` in one transaction), rows written per second, the verdicts, and
the parity count: on how many instances with a store row swepipe's grade equals the official
`swebench` package's (`get_eval_report`, installed with --no-deps into its own folder). The
baseline is the official grading of the same logs in the same run (grading only, no store), so the
ratio says what importing costs next to just grading. Exits 1 when an import fails, parity is not
100%, nothing was compared, or a folder imports nothing.

Usage: python benchmarks/harness_import.py [--swebench-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from swepipe.datasets.ingest import ingest_file
from swepipe.evaluation.importer import import_evaluation
from swepipe.errors import SwepipeError
from swepipe.evaluation.official import compare, ensure_swebench, official_grades, parity_items
from swepipe.store import Store

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FOLDERS = ("auto-code-rover-run-1", "SWE-bench_check_harness")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--swebench-dir", type=Path, help="a folder holding swebench")
    args = parser.parse_args()
    swebench_dir = ensure_swebench(args.swebench_dir)
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared machine: "
          f"timings are noisy)")
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "bench.duckdb")
        for split in ("test", "dev"):
            ingest_file(store, DATA / "swe-bench-lite" / f"{split}.jsonl")
        for name in FOLDERS:
            folder = DATA / "harness-logs" / name
            start = time.perf_counter()
            try:
                report = import_evaluation(store, folder)
            except SwepipeError as exc:
                print(f"{name}: FAILED: the import failed: {exc}")
                failed = True
                continue
            seconds = time.perf_counter() - start
            rows = report.new_verdicts + report.new_test_rows
            # the baseline: the official grading alone, timed on the logs parity compares
            evaluation, items, mine = parity_items(store, folder)
            start = time.perf_counter()
            graded = official_grades(items, swebench_dir)
            official = time.perf_counter() - start
            check = compare(evaluation, items, mine, graded)
            print(f"{name}: {report.records} logs, {report.verdicts} with a store row, "
                  f"{len(report.disagreements)} disagree with report.json")
            print(f"  import {seconds:.2f} s, {rows} rows ({report.new_test_rows} test rows), "
                  f"{rows / seconds:,.0f} rows/s, {report.verdicts / seconds:,.1f} verdicts/s")
            print(f"  official grading alone {official:.2f} s: import / official = "
                  f"{seconds / official:.2f}x")
            print(f"  parity with the official grading: {check.equal} / {check.compared}")
            if check.equal != check.compared or not check.compared or not report.verdicts:
                print(f"  FAILED: parity {check.equal}/{check.compared}, differing: "
                      f"{check.differing}, verdicts {report.verdicts}")
                failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
