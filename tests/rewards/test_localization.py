"""Localization rewards on the hand-made instance (values computed by hand in the comments).

Gold files: pkg/a.py, pkg/b.py (pkg/new.py is new: excluded). Gold line units: a.py removed 3,
a.py insertion after 10 (the `+ y = 3` replaces line 3, so no insertion unit there), b.py
removed 1. Gold functions (with a clone): a.py `f` (line 3) and `g` (insertion after 10).
"""

from __future__ import annotations

import pytest

from swepipe.rewards.compute import compute_rewards
from swepipe.rewards.gold import compute_gold_symbols, git_source_reader
from swepipe.datasets.ingest import ingest_instances
from swepipe.types import CodePointer

from .conftest import Writer, git_repo, make_instance, rewards_of

P = CodePointer


def _two_samples() -> list[CodePointer]:
    return [
        # sample 0: a.py 1-5 only
        P(file_path="pkg/a.py", start_line=1, end_line=5, kind="lines", rank=0, sample_idx=0,
          tokens=100),
        # sample 1: a wrong file first, then b.py whole, then a.py 11-12
        P(file_path="pkg/c.py", rank=0, sample_idx=1),
        P(file_path="pkg/b.py", rank=1, sample_idx=1, tokens=50),
        P(file_path="pkg/a.py", start_line=11, end_line=12, kind="lines", rank=2, sample_idx=1),
    ]


def test_gold_lines_are_removed_lines_and_insertion_points(handmade) -> None:
    store, _, _ = handmade
    got = store.query("SELECT path, line, kind FROM gold_lines ORDER BY path, line").to_pylist()
    assert [(r["path"], r["line"], r["kind"]) for r in got] == [
        ("pkg/a.py", 3, "removed"), ("pkg/a.py", 10, "insert_after"), ("pkg/b.py", 1, "removed")]
    files = store.query("SELECT path FROM gold_loc_files ORDER BY path").column("path").to_pylist()
    assert files == ["pkg/a.py", "pkg/b.py"]


def test_localization_rewards_per_sample_and_instance(handmade) -> None:
    store, instance, w = handmade
    config = w.config("localize", "test.loc")
    w.result("localize", config, instance, _two_samples())
    compute_rewards(store, stage="localize")
    assert rewards_of(store, "file_recall", config) == {0: 0.5, 1: 1.0, -1: 0.75}
    assert rewards_of(store, "all_files_found", config) == {0: 0.0, 1: 1.0, -1: 0.5}
    # sample 0 covers a:3 only; sample 1 covers b:1 (whole file) and the gap after a:10
    # (pointer 11-12 touches it: 11 - 1 <= 10)
    got = rewards_of(store, "line_recall", config)
    assert got[0] == pytest.approx(1 / 3) and got[1] == pytest.approx(2 / 3)
    assert got[-1] == pytest.approx(0.5)
    assert rewards_of(store, "hit_at_1", config) == {0: 1.0, 1: 0.0, -1: 0.5}
    assert rewards_of(store, "hit_at_3", config) == {0: 1.0, 1: 1.0, -1: 1.0}
    # sample 1 has pointers without a size: no value; sample 0 is 100
    assert rewards_of(store, "context_tokens", config) == {0: 100.0, -1: 100.0}
    # no clone given: no gold functions, no function_recall
    assert rewards_of(store, "function_recall", config) == {}


def test_empty_output_scores_zero(handmade) -> None:
    store, instance, w = handmade
    config = w.config("localize", "test.empty")
    w.result("localize", config, instance, [])
    compute_rewards(store, stage="localize")
    for metric in ("file_recall", "all_files_found", "line_recall", "hit_at_1", "hit_at_5",
                   "context_tokens"):
        assert rewards_of(store, metric, config) == {0: 0.0, -1: 0.0}, metric


def test_unresolved_symbol_pointer_finds_file_but_no_lines(handmade) -> None:
    store, instance, w = handmade
    config = w.config("localize", "test.symbols")
    w.result("localize", config, instance, [
        P(file_path="pkg/a.py", kind="function", symbol="g", resolved=False)])
    compute_rewards(store, stage="localize")
    assert rewards_of(store, "file_recall", config)[0] == 0.5
    assert rewards_of(store, "line_recall", config)[0] == 0.0


def test_function_recall_with_a_clone(store, tmp_path) -> None:
    commit = git_repo(tmp_path / "clones")
    instance = make_instance(commit)
    ingest_instances(store, [instance], "handmade", "test")
    w = Writer(store)
    spans, named = w.config("localize", "test.spans"), w.config("localize", "test.named")
    w.result("localize", spans, instance, _two_samples())
    w.result("localize", named, instance, [
        P(file_path="pkg/a.py", kind="function", symbol="f", resolved=False),
        P(file_path="pkg/b.py", kind="function", symbol="g", resolved=False)])  # wrong file
    compute_rewards(store, stage="localize", repos_dir=tmp_path / "clones")
    symbols = store.query("SELECT symbol, line, line_kind FROM gold_symbols ORDER BY line")
    assert symbols.to_pylist() == [{"symbol": "f", "line": 3, "line_kind": "removed"},
                                   {"symbol": "g", "line": 10, "line_kind": "insert_after"}]
    # sample 0 covers f's line 3; sample 1 covers g's gap after 10; neither covers both
    assert rewards_of(store, "function_recall", spans) == {0: 0.5, 1: 0.5, -1: 0.5}
    assert rewards_of(store, "function_recall", named) == {0: 0.5, -1: 0.5}
    # a second pass finds nothing new to parse
    assert compute_gold_symbols(store, git_source_reader(tmp_path / "clones")) == 0


def test_oracle_localization_scores_recall_one_on_real_multi_file_patches(store, shared_data):
    """Pointers = the gold hunks' original spans, on all of SWE-bench Verified (multi-file and
    new-file patches included)."""
    from swepipe.datasets.ingest import ingest_file, load_instances
    from swepipe.patch.diff import parse_diff

    ingest_file(store, shared_data / "swe-bench-verified" / "partial.jsonl", "verified")
    w = Writer(store)
    config = w.config("localize", "oracle.hunks")
    from swepipe.store.codecs import to_rows
    from swepipe.store.writer import StageCommit, write_units

    units = []
    for inst in load_instances(store, "verified"):
        pointers = [P(file_path=c.path, start_line=h.source_start,
                      end_line=h.source_start + max(h.source_length, 1) - 1, kind="lines")
                    for c in parse_diff(inst.patch) if c.change_type != "added"
                    for h in c.hunks]
        units.append(StageCommit(stage="localize", config_hash=config,
                                 instance_id=inst.instance_id,
                                 instance_hash=inst.content_hash(), status="done",
                                 rows=to_rows("localize", pointers)))
    with store.transaction() as conn:
        write_units(conn, units)
    compute_rewards(store, stage="localize")
    got = store.query("SELECT metric, min(value) AS lo, count(*) AS n FROM rewards "
                      "WHERE sample_idx = -1 AND metric IN ('file_recall', 'line_recall', "
                      "'all_files_found') GROUP BY metric ORDER BY metric").to_pylist()
    assert [(r["metric"], r["lo"], r["n"]) for r in got] == [
        ("all_files_found", 1.0, 500), ("file_recall", 1.0, 500), ("line_recall", 1.0, 500)]
