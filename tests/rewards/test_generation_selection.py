"""Generation and selection rewards on the hand-made instance (expected values by hand).

Candidates: 0 = only the a.py part of the gold patch (X), 1 = the gold patch, 2 = empty.
Gold tests: FAIL_TO_PASS t1, t2; PASS_TO_PASS t3. X passes t1, fails t2, has no row for t3; the
gold patch passes all three; the empty candidate is never run.
"""

from __future__ import annotations

import hashlib

import pytest

from swepipe.rewards.compute import compute_rewards
from swepipe.rewards.similarity import change_ratio, file_level_changes
from swepipe.types import Patch, Selection

from .conftest import A_DIFF, GOLD, rewards_of


def _h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def generated(handmade):
    store, instance, w = handmade
    gen = w.config("generate", "test.gen")
    w.result("generate", gen, instance, [Patch(diff=A_DIFF, sample_idx=0),
                                         Patch(diff=GOLD, sample_idx=1),
                                         Patch(diff="", sample_idx=2, status="empty")])
    runs = [("t1", "fail_to_pass", A_DIFF, "passed"), ("t2", "fail_to_pass", A_DIFF, "failed"),
            ("t1", "fail_to_pass", GOLD, "passed"), ("t2", "fail_to_pass", GOLD, "passed"),
            ("t3", "pass_to_pass", GOLD, "passed")]
    w.rows("test_runs", [{"instance_id": instance.instance_id, "patch_hash": _h(diff),
                          "test_kind": kind, "test_id": test, "status": status}
                         for test, kind, diff, status in runs])
    return store, instance, w, gen


def test_gold_test_rates_and_resolved(generated) -> None:
    store, _, _, gen = generated
    compute_rewards(store, stage="generate")
    assert rewards_of(store, "fail_to_pass_rate", gen) == {0: 0.5, 1: 1.0, -1: 0.75}
    assert rewards_of(store, "pass_to_pass_rate", gen) == {0: 0.0, 1: 1.0, -1: 0.5}
    got = rewards_of(store, "gold_pass_rate", gen)
    assert got[0] == pytest.approx(1 / 3) and got[1] == 1.0 and 2 not in got
    # the empty candidate is 0 without a run; per instance: 1 of 3 candidates resolves
    got = rewards_of(store, "resolved", gen)
    assert {k: got[k] for k in (0, 1, 2)} == {0: 0.0, 1: 1.0, 2: 0.0}
    assert got[-1] == pytest.approx(1 / 3)


def test_similarity_of_gold_partial_and_empty_candidates(generated) -> None:
    store, _, _, gen = generated
    compute_rewards(store, stage="generate")
    # X has a.py exactly as the gold patch; b.py and new.py are missing: (1 + 0 + 0) / 3
    swe = rewards_of(store, "swe_rl_similarity", gen)
    assert swe[0] == pytest.approx(1 / 3) and swe[1] == 1.0 and swe[2] == 0.0
    lev = rewards_of(store, "levenshtein_similarity", gen)
    assert lev[1] == 1.0 and lev[2] == 0.0
    # X is a prefix of the gold text: distance = the missing length
    assert lev[0] == pytest.approx(1 - (len(GOLD) - len(A_DIFF)) / len(GOLD))


def test_changed_line_coverage_from_the_coverage_table(generated) -> None:
    store, instance, w, gen = generated
    # X adds a.py line 3 (`y = 3`) and line 11 (`b = 2`) in the patched file; tests ran 3 and 5
    w.rows("test_coverage", [{"instance_id": instance.instance_id, "patch_hash": _h(A_DIFF),
                              "test_kind": "generated", "path": "pkg/a.py", "lines": [3, 5]}])
    compute_rewards(store, stage="generate", metrics=["changed_line_coverage"])
    assert rewards_of(store, "changed_line_coverage", gen) == {0: 0.5, -1: 0.5}


def test_selection_gain_and_gold_injection(generated) -> None:
    store, instance, w, gen = generated
    picks_gold = w.config("select", "test.pick_gold", {"generate": gen})
    picks_x = w.config("select", "test.pick_x", {"generate": gen})
    picks_none = w.config("select", "test.pick_none", {"generate": gen})
    w.result("select", picks_gold, instance, Selection(chosen_sample_idx=1, patch=GOLD,
                                                       method="t"))
    w.result("select", picks_x, instance, Selection(chosen_sample_idx=0, patch=A_DIFF,
                                                    method="t"))
    w.result("select", picks_none, instance, Selection(chosen_sample_idx=None, patch="",
                                                       method="t"))
    compute_rewards(store)
    # resolved: X 0, gold 1, empty 0 -> a random pick resolves 1/3
    assert rewards_of(store, "selection_gain_vs_random", picks_gold)[-1] == pytest.approx(2 / 3)
    assert rewards_of(store, "selection_gain_vs_random", picks_x)[-1] == pytest.approx(-1 / 3)
    assert rewards_of(store, "selection_gain_vs_random", picks_none)[-1] == pytest.approx(-1 / 3)
    # swe_rl: X 1/3, gold 1, empty 0 -> random 4/9; X gains 1/3 - 4/9
    assert rewards_of(store, "selection_gain_vs_random_similarity", picks_x)[-1] == \
        pytest.approx(1 / 3 - 4 / 9)
    assert rewards_of(store, "gold_injection_accuracy", picks_gold) == {-1: 1.0}
    assert rewards_of(store, "gold_injection_accuracy", picks_x) == {-1: 0.0}


def test_recomputation_is_idempotent(generated) -> None:
    store, instance, w, gen = generated
    sel = w.config("select", "test.sel", {"generate": gen})
    w.result("select", sel, instance, Selection(chosen_sample_idx=1, patch=GOLD, method="t"))
    query = ("SELECT instance_id, stage, config_hash, sample_idx, metric, value FROM rewards "
             "ORDER BY ALL")
    compute_rewards(store)
    first = store.query(query).to_pylist()
    compute_rewards(store)
    compute_rewards(store, stage="generate", config_hash=gen)
    assert store.query(query).to_pylist() == first and len(first) > 20


def test_swe_rl_file_changes_follow_swe_rl() -> None:
    renamed = ("diff --git a/old.py b/new.py\nsimilarity index 90%\nrename from old.py\n"
               "rename to new.py\n--- a/old.py\n+++ b/new.py\n@@ -1 +1 @@\n-a\n+b\n")
    binary = ("diff --git a/img.png b/img.png\nindex 1..2 100644\n"
              "Binary files a/img.png and b/img.png differ\n")
    changes = file_level_changes(renamed + binary)
    # unidiff re-renders hunk headers with explicit lengths, as in SWE-RL
    assert changes == {"old.py": "rename from old.py to new.py\n@@ -1,1 +1,1 @@\n-a\n+b"}
    assert file_level_changes("not a diff\n") == {}
    assert change_ratio("", "x") == 0.0 and change_ratio("ab", "ab") == 1.0
