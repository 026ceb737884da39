"""A small, deterministic store with every stage filled, for the notebook, tests and benchmarks.

From real SWE-bench rows (no model, no executor): two oracle localizers (gold hunks; gold files
as whole files) and a noisy one; a gold generator and a perturbed one (the gold patch, a
character-perturbed copy, an empty candidate); first-candidate and random selectors; gold-test
outcomes recorded for the candidates as a stand-in executor would (`executor = 'demo'`: the gold
patch passes, anything else fails a FAIL_TO_PASS test). These outcomes are synthetic; they exist
so that every reward, the report and the calibration have something to show.
"""

from __future__ import annotations

import random
from pathlib import Path

from swepipe.datasets.ingest import ingest_instances, parse_file
from swepipe.store.configs import config_row, register_configs
from swepipe.store.sql_files import sql_root
from swepipe.store.store import Store, insert_rows
from swepipe.store.writer import StageCommit, write_units
from swepipe.types import CodePointer, Instance, Patch, Selection, patch_hash


def shared_data_dir() -> Path:
    """`$SWEPIPE_DATA`, else `../shared/data` beside the project root."""
    import os

    override = os.environ.get("SWEPIPE_DATA")
    return Path(override) if override else sql_root().parent / "shared" / "data"


def perturb_diff(diff: str, rng: random.Random, rate: float = 0.05) -> str:
    """A copy of `diff` with characters of its added and removed lines replaced at `rate`;
    line counts stay the same, so the result still parses as a diff."""
    out = []
    for line in diff.splitlines(keepends=True):
        if line[:1] in "+-" and not line.startswith(("+++", "---")):
            chars = list(line)
            for i in range(1, len(chars)):
                if chars[i] != "\n" and rng.random() < rate:
                    chars[i] = rng.choice("abcdefghijklmnopqrstuvwxyz_ ")
            line = "".join(chars)
        out.append(line)
    return "".join(out)


def _stage_commit(stage: str, config: str, instance: Instance, rows: list[dict]) -> StageCommit:
    return StageCommit(stage=stage, config_hash=config,  # type: ignore[arg-type]
                       instance_id=instance.instance_id, instance_hash=instance.content_hash(),
                       status="done", rows=rows)


def build_demo_store(path: str | Path, *, n_instances: int = 12,
                     data_file: Path | None = None) -> Store:
    """Create (or reuse, when it already has instances) a demo store at `path`."""
    from swepipe.patch.diff import parse_diff
    from swepipe.store.codecs import to_rows

    store = Store(path)
    if store.query("SELECT count(*) AS n FROM instances").column("n")[0].as_py():
        return store
    data_file = data_file or shared_data_dir() / "swe-bench-lite" / "test.jsonl"
    instances = [i for i, _ in parse_file(Path(data_file))][:n_instances]
    ingest_instances(store, instances, "demo", str(data_file))
    rng = random.Random(7)
    cfg = {name: config_row(stage, f"demo.{name}", "1", {}, upstream)  # type: ignore[arg-type]
           for name, stage, upstream in [
               ("oracle_hunks", "localize", {}), ("oracle_files", "localize", {}),
               ("noisy", "localize", {})]}
    cfg["gold"] = config_row("generate", "demo.gold", "1", {},
                             {"localize": cfg["oracle_hunks"]["config_hash"]})
    cfg["perturbed"] = config_row("generate", "demo.perturbed", "1", {},
                                  {"localize": cfg["noisy"]["config_hash"]})
    for name in ("first", "random"):
        cfg[name] = config_row("select", f"demo.{name}", "1", {},
                               {"generate": cfg["perturbed"]["config_hash"]})
    units, runs = [], []
    for inst in instances:
        changes = [c for c in parse_diff(inst.patch) if c.change_type != "added"]
        hunks = [CodePointer(file_path=c.path, start_line=h.source_start,
                             end_line=h.source_start + max(h.source_length, 1) - 1,
                             kind="lines", rank=r)
                 for r, (c, h) in enumerate((c, h) for c in changes for h in c.hunks)]
        files = [CodePointer(file_path=c.path, rank=r) for r, c in enumerate(changes)]
        noisy = [CodePointer(file_path="setup.py", rank=0),
                 *[p.model_copy(update={"rank": p.rank + 1, "end_line": p.start_line})
                   for p in hunks[:1]]]
        for name, pointers in (("oracle_hunks", hunks), ("oracle_files", files),
                               ("noisy", noisy)):
            units.append(_stage_commit("localize", cfg[name]["config_hash"], inst,
                                       to_rows("localize", pointers)))
        gold = Patch(diff=inst.patch, sample_idx=0, files=[c.path for c in changes])
        candidates = [gold.model_copy(update={"sample_idx": 0}),
                      Patch(diff=perturb_diff(inst.patch, rng), sample_idx=1),
                      Patch(diff=perturb_diff(inst.patch, rng, 0.2), sample_idx=2),
                      Patch(diff="", sample_idx=3, status="empty")]
        units.append(_stage_commit("generate", cfg["gold"]["config_hash"], inst,
                                   to_rows("generate", [gold])))
        units.append(_stage_commit("generate", cfg["perturbed"]["config_hash"], inst,
                                   to_rows("generate", candidates)))
        pick = rng.randrange(len(candidates))
        for name, chosen in (("first", 0 if rng.random() < 0.5 else 1), ("random", pick)):
            sel = Selection(chosen_sample_idx=chosen, patch=candidates[chosen].diff, method=name)
            units.append(_stage_commit("select", cfg[name]["config_hash"], inst,
                                       to_rows("select", sel)))
        for cand in candidates[:3]:
            ok = cand.diff == inst.patch
            for kind, tests in (("fail_to_pass", inst.fail_to_pass),
                                ("pass_to_pass", inst.pass_to_pass)):
                for j, test in enumerate(tests):
                    runs.append({"instance_id": inst.instance_id, "patch_hash": patch_hash(cand),
                                 "test_kind": kind, "test_id": test, "executor": "demo",
                                 "status": "passed" if ok or kind == "pass_to_pass" or j else
                                 "failed"})
    runs = list({(r["instance_id"], r["patch_hash"], r["test_kind"], r["test_id"]): r
                 for r in runs}.values())
    with store.transaction() as conn:
        register_configs(conn, list(cfg.values()))
        write_units(conn, units)
        insert_rows(conn, "test_runs", runs)
    return store
