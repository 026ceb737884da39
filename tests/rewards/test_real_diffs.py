"""Similarity on real SWE-bench diffs: the SQL path against a direct difflib computation, and the
gold patch against itself."""

from __future__ import annotations

import difflib
import random

import pytest
from unidiff import PatchSet

from swepipe.datasets.ingest import ingest_file, load_instances
from swepipe.rewards.compute import compute_rewards
from swepipe.rewards.demo import perturb_diff
from swepipe.types import Patch

from .conftest import Writer


def _direct_swe_rl(pred: str, gold: str) -> float:
    """SWE-RL's calculate_reward_unidiff written out independently of swepipe."""

    def files(text: str) -> dict[str, str]:
        try:
            patch = PatchSet(text)
        except Exception:  # noqa: BLE001 - as SWE-RL: an unparseable diff has no files
            return {}
        out = {}
        for pf in patch:
            if pf.is_binary_file:
                continue
            header, path = "", pf.path
            if pf.is_rename:
                src, tgt = pf.source_file.removeprefix("a/"), pf.target_file.removeprefix("b/")
                header, path = f"rename from {src} to {tgt}", src
            out[path] = (header + "\n" + "\n".join(str(h).strip() for h in pf)).strip()
        return out

    p, g = files(pred), files(gold)
    paths = set(p) | set(g)
    if not paths:
        return 1.0
    scores = [0.0 if not p.get(x) or not g.get(x) else
              difflib.SequenceMatcher(None, p[x], g[x], autojunk=False).ratio() for x in paths]
    return sum(scores) / len(scores)


@pytest.fixture
def verified(store, shared_data):
    ingest_file(store, shared_data / "swe-bench-verified" / "partial.jsonl", "verified")
    # small and multi-file patches keep difflib fast; keep every multi-file one under 4 kB
    chosen = [i for i in load_instances(store, "verified") if len(i.patch) < 4000]
    rng = random.Random(3)
    multi = [i for i in chosen if i.patch.count("diff --git") > 1][:15]
    return store, multi + rng.sample([i for i in chosen if i not in multi], 15)


def test_swe_rl_similarity_matches_direct_difflib(verified) -> None:
    store, instances = verified
    w = Writer(store)
    config = w.config("generate", "perturbed")
    rng = random.Random(5)
    expected = {}
    for k, inst in enumerate(instances):
        other = instances[(k + 1) % len(instances)].patch  # a different file set entirely
        cands = [perturb_diff(inst.patch, rng, 0.1), inst.patch.split("diff --git")[1] and
                 "diff --git" + inst.patch.split("diff --git")[1], other, ""]
        w.result("generate", config, inst, [Patch(diff=d, sample_idx=s)
                                            for s, d in enumerate(cands)])
        expected.update({(inst.instance_id, s): _direct_swe_rl(d, inst.patch)
                         for s, d in enumerate(cands)})
    compute_rewards(store, stage="generate", metrics=["swe_rl_similarity"])
    got = {(r["instance_id"], r["sample_idx"]): r["value"] for r in store.query(
        "SELECT instance_id, sample_idx, value FROM rewards WHERE metric = 'swe_rl_similarity' "
        "AND sample_idx >= 0").to_pylist()}
    assert got.keys() == expected.keys()
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key
    assert len({round(v, 6) for v in expected.values()}) > 20  # a real spread, not all 0 or 1


def test_gold_patch_scores_similarity_one(verified) -> None:
    store, instances = verified
    w = Writer(store)
    config = w.config("generate", "oracle.gold")
    for inst in instances:
        w.result("generate", config, inst, [Patch(diff=inst.patch)])
    compute_rewards(store, stage="generate")
    got = store.query("SELECT metric, min(value) AS lo, count(*) AS n FROM rewards "
                      "WHERE metric IN ('swe_rl_similarity', 'levenshtein_similarity') "
                      "AND sample_idx = -1 GROUP BY metric ORDER BY metric").to_pylist()
    assert [(r["metric"], r["lo"], r["n"]) for r in got] == [
        ("levenshtein_similarity", 1.0, 30), ("swe_rl_similarity", 1.0, 30)]
