"""Resume: 300 instances x 3 stages x 40 samples all done; a re-run must compute nothing (< 2 s).

Baseline, measured in the same run: finding the same finished ids the way Agentless does, by
re-reading each stage's output JSONL for every instance and scanning it for the id.

    python benchmarks/store_resume.py [--instances 300] [--samples 40]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import synthetic_instances, timed  # noqa: E402

from swepipe import event_loop  # noqa: E402
from swepipe.datasets.ingest import ingest_instances  # noqa: E402
from swepipe.store import Store  # noqa: E402
from swepipe.store.codecs import to_rows  # noqa: E402
from swepipe.store.stage_cache import StageCache  # noqa: E402
from swepipe.store.writer import StageCommit, StoreWriter, write_units  # noqa: E402
from swepipe.types import CodePointer, Patch, Selection  # noqa: E402

STAGES = {"localize": "l" * 64, "generate": "g" * 64, "select": "s" * 64}


def outputs(stage: str, instance_id: str, samples: int):
    if stage == "localize":
        return [CodePointer(file_path=f"pkg/m{k}.py", start_line=k, end_line=k + 20,
                            kind="lines", rank=k, sample_idx=k) for k in range(samples)]
    if stage == "generate":
        return [Patch(diff=f"diff --git a/x b/x\n@@ {instance_id} {k}\n" + "+line\n" * 30,
                      sample_idx=k, files=["x"]) for k in range(samples)]
    return Selection(chosen_sample_idx=0, patch="diff", method="vote",
                     scores={k: float(k) for k in range(samples)})


async def resume(store: Store, instances) -> int:
    computed = 0

    async def must_not_run():
        nonlocal computed
        computed += 1

    async with StoreWriter(store) as writer:
        for stage, config in STAGES.items():
            cache = StageCache(store, writer, stage, config)
            cache.prefetch(instances)
            results = await asyncio.gather(
                *(cache.get_or_compute(i, must_not_run) for i in instances))
            assert all(r.from_cache for r in results)
    return computed


def agentless_scan(folder: Path, instances) -> int:
    found = 0
    for stage in STAGES:
        path = folder / f"{stage}.jsonl"
        for instance in instances:
            with path.open() as fh:  # Agentless re-loads the output file per instance
                done_ids = [json.loads(line)["instance_id"] for line in fh]
            found += instance.instance_id in done_ids
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--instances", type=int, default=300)
    parser.add_argument("--samples", type=int, default=40)
    args = parser.parse_args()
    t: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "resume.duckdb")
        instances = synthetic_instances(args.instances)
        ingest_instances(store, instances, "bench", "synthetic")
        with store.transaction() as conn:
            write_units(conn, [StageCommit(stage, config, i.instance_id, i.content_hash(), "done",
                                           to_rows(stage, outputs(stage, i.instance_id, args.samples)))
                               for stage, config in STAGES.items() for i in instances])
        folder = Path(tmp) / "agentless"
        folder.mkdir()
        for stage in STAGES:
            with (folder / f"{stage}.jsonl").open("w") as fh:
                for i in instances:
                    rows = to_rows(stage, outputs(stage, i.instance_id, args.samples))
                    fh.write(json.dumps({"instance_id": i.instance_id, "outputs": rows},
                                        default=str) + "\n")
        with timed("store", t):
            computed = event_loop.run(resume(Store(store.path), instances))
        with timed("jsonl", t):
            found = agentless_scan(folder, instances)
    keys = args.instances * len(STAGES)
    print(f"resume of {args.instances} instances x {len(STAGES)} stages x {args.samples} samples")
    print(f"  swepipe store: {t['store']:.3f} s, computed {computed} of {keys} "
          f"(target < 2 s, computed 0): {'PASS' if t['store'] < 2 and computed == 0 else 'FAIL'}")
    print(f"  Agentless-style JSONL scan: {t['jsonl']:.3f} s, found {found} of {keys}")
    print(f"  ratio (JSONL scan / store): {t['jsonl'] / t['store']:.1f}x")


if __name__ == "__main__":
    main()
