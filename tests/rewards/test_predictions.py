"""`swepipe import-predictions` and `swepipe inject-gold`."""

from __future__ import annotations

import json

from swepipe.cli import main
from swepipe.datasets.ingest import ingest_file, load_instances
from swepipe.rewards.compute import compute_rewards
from swepipe.rewards.predictions import import_predictions, inject_gold
from swepipe.store.codecs import from_rows
from swepipe.types import Selection

from .conftest import Writer


def test_import_predictions_round_trip(store, lite_path, tmp_path, capsys) -> None:
    ingest_file(store, lite_path, "lite")
    instances = load_instances(store, "lite", limit=4)
    rows = [{"instance_id": i.instance_id, "model_patch": i.patch, "model_name_or_path": "gold"}
            for i in instances[:3]]
    rows += [{"instance_id": instances[3].instance_id, "model_patch": "",
              "model_name_or_path": "gold"},
             {"instance_id": "nobody__nothing-1", "model_patch": "x",
              "model_name_or_path": "gold"}]
    path = tmp_path / "preds.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    assert main(["--store", str(store.path), "import-predictions", str(path),
                 "--name", "gold-run"]) == 0
    assert "4 predictions imported" in capsys.readouterr().out
    again = import_predictions(store, path, "gold-run")
    assert (again.imported, again.unchanged, again.unknown) == (0, 4, 1)

    back = store.query("SELECT * FROM patches WHERE config_hash = $c ORDER BY instance_id",
                       {"c": again.config_hash}).to_pylist()
    patches = {r["instance_id"]: from_rows("generate", [r])[0] for r in back}
    assert {k: p.diff for k, p in patches.items()} == {r["instance_id"]: r["model_patch"]
                                                       for r in rows[:4]}
    assert patches[instances[3].instance_id].status == "empty"
    assert patches[instances[0].instance_id].meta == {"model_name_or_path": "gold"}
    legacy = store.query("SELECT legacy, component FROM configs WHERE config_hash = $c",
                         {"c": again.config_hash}).to_pylist()
    assert legacy == [{"legacy": True, "component": "predictions"}]

    compute_rewards(store, stage="generate", config_hash=again.config_hash)
    swe = store.query("SELECT value FROM rewards WHERE metric = 'swe_rl_similarity' AND "
                      "sample_idx = 0 AND config_hash = $c ORDER BY value",
                      {"c": again.config_hash}).column("value").to_pylist()
    assert swe == [0.0, 1.0, 1.0, 1.0]  # the empty prediction, then three gold patches


def test_inject_gold_then_selection_accuracy(store, lite_path) -> None:
    ingest_file(store, lite_path, "lite")
    instances = load_instances(store, "lite", limit=3)
    w = Writer(store)
    gen = w.config("generate", "test.gen")
    from swepipe.types import Patch

    for inst in instances:
        w.result("generate", gen, inst, [Patch(diff="", sample_idx=0, status="empty"),
                                         Patch(diff="", sample_idx=1, status="empty")])
    injected = inject_gold(store, gen)
    sel = w.config("select", "test.first", {"generate": injected})
    for k, inst in enumerate(instances):
        # the first instance's selector picks the gold one, the others pick sample 0 or 1
        cands = store.query("SELECT sample_idx, diff FROM patches WHERE config_hash = $c AND "
                            "instance_id = $i ORDER BY sample_idx",
                            {"c": injected, "i": inst.instance_id}).to_pylist()
        assert len(cands) == 3 and sum(c["diff"] == inst.patch for c in cands) == 1
        gold_idx = next(c["sample_idx"] for c in cands if c["diff"] == inst.patch)
        chosen = gold_idx if k == 0 else (gold_idx + 1) % 3
        w.result("select", sel, inst, Selection(chosen_sample_idx=chosen, patch="", method="t"))
    compute_rewards(store, stage="select")
    got = store.query("SELECT avg(value) AS v, count(*) AS n FROM rewards WHERE metric = "
                      "'gold_injection_accuracy' AND config_hash = $c", {"c": sel}).to_pylist()
    assert got[0]["n"] == 3 and abs(got[0]["v"] - 1 / 3) < 1e-12
