"""Benchmark: importing legacy Agentless caches (`swepipe migrate agentless`).

1. All of ../shared/data/legacy/ into a fresh store (target: under 1 s).
2. A synthetic ~100 MB Agentless results folder, built by replicating the real files with new
   instance ids (`<id>-rep<k>`), so every replica is a new instance (target: under 15 s on two
   cores). Prompts are replicated too, so `contents` stores each prompt text once: the store/
   source ratio is the one a real run gets for texts shared between instances, which real runs
   share less than replicas do.

Usage: python benchmarks/legacy_import.py [--mb 100] [--keep DIR]
Prints wall time, rows, source bytes (of the files imported) and store bytes.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from swepipe.migrate import migrate_agentless
from swepipe.migrate.detect import COPIES
from swepipe.store import Store

LEGACY = Path(__file__).resolve().parents[2] / "shared" / "data" / "legacy"


def _imported_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.jsonl") if p.name not in COPIES)


def build_synthetic(dest: Path, target_bytes: int) -> int:
    """Replicate every legacy file until the folder holds about `target_bytes`."""
    files = _imported_files(LEGACY)
    one_copy = sum(p.stat().st_size for p in files)
    copies = max(1, round(target_bytes / one_copy))
    for src in LEGACY.rglob("args.json"):
        out = dest / src.relative_to(LEGACY)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, out)
    for src in files:
        lines = [line for line in src.read_text().splitlines() if line.strip()]
        ids = [json.loads(line)["instance_id"] for line in lines]
        out = dest / src.relative_to(LEGACY)
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("w") as fh:
            for k in range(copies):
                for iid, line in zip(ids, lines):
                    # the id appears as a value only; prompts do not contain it
                    fh.write(line.replace(f'"{iid}"', f'"{iid}-rep{k}"') + "\n")
    return copies


def run(folder: Path, label: str, workdir: Path) -> None:
    store = Store(workdir / f"{label}.duckdb")
    with store.session():  # create and migrate the store outside the timing
        pass
    empty = store.path.stat().st_size
    source = sum(p.stat().st_size for p in _imported_files(folder))
    start = time.perf_counter()
    report = migrate_agentless(store, folder)
    elapsed = time.perf_counter() - start
    counts = store.query("SELECT (SELECT count(*) FROM stage_runs) AS stage_runs, "
                         "(SELECT count(*) FROM localizations) AS localizations, "
                         "(SELECT count(*) FROM patches) AS patches, "
                         "(SELECT count(*) FROM sequences) AS sequences").to_pylist()[0]
    with store.connect() as conn:
        conn.execute("CHECKPOINT")
    size = store.path.stat().st_size
    print(f"{label}: {len(report.plans)} files, {source / 1e6:.1f} MB source -> "
          f"{size / 1e6:.1f} MB store ({size / source:.2f}x; the empty store is "
          f"{empty / 1e6:.1f} MB) in {elapsed:.2f} s; {counts}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100.0, help="size of the synthetic folder")
    parser.add_argument("--keep", type=Path, help="build in this folder and keep it")
    args = parser.parse_args(argv)
    if not LEGACY.is_dir():
        print(f"skipped: {LEGACY} is absent", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        run(LEGACY, "real legacy folder", work)
        synthetic = work / "synthetic"
        start = time.perf_counter()
        copies = build_synthetic(synthetic, int(args.mb * 1e6))
        print(f"built synthetic folder: {copies} replicas in {time.perf_counter() - start:.1f} s")
        run(synthetic, "synthetic Agentless folder", work)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
