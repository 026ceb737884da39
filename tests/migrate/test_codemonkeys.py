"""A CodeMonkeys trajectory store built from the documented models round-trips."""

from __future__ import annotations

import json
from pathlib import Path

from swepipe.migrate import migrate_codemonkeys
from swepipe.migrate.importer import ImportOptions
from swepipe.migrate.plan import text_id
from swepipe.store import Store
from swepipe.types import patch_hash

from tests.migrate.conftest import DIFF_A, DIFF_B, write_jsonl


def _pointers(store: Store, component: str) -> list[tuple]:
    return [(r["sample_idx"], r["file_path"], r["rank"], r["tokens"]) for r in store.query(
        "SELECT l.* FROM localizations l JOIN configs c USING (config_hash) "
        "WHERE c.component = ? ORDER BY sample_idx, pointer_idx", [component]).to_pylist()]


def test_codemonkeys_localization_sections_round_trip(store: Store,
                                                      codemonkeys_store: Path) -> None:
    migrate_codemonkeys(store, codemonkeys_store)
    assert _pointers(store, "codemonkeys.relevance") == [(0, "pkg/a.py", 0, None)]
    assert _pointers(store, "codemonkeys.ranking") == [
        (0, "pkg/a.py", 0, 100_000), (0, "pkg/b.py", 1, 20_000), (0, "pkg/c.py", 2, 50_000)]
    # the 128k budget holds a.py and b.py, c.py no longer fits
    assert [p[1] for p in _pointers(store, "codemonkeys.context")] == ["pkg/a.py", "pkg/b.py"]
    assert _pointers(store, "codemonkeys.ranking_samples") == [
        (0, "pkg/a.py", 0, None), (0, "pkg/b.py", 1, None),
        (1, "pkg/b.py", 0, None), (1, "pkg/a.py", 1, None)]
    n_relevance_calls = store.query(
        "SELECT count(*) AS n FROM sequences s JOIN configs c USING (config_hash) "
        "WHERE c.component = 'codemonkeys.relevance'").to_pylist()[0]["n"]
    assert n_relevance_calls == 3


def test_codemonkeys_editing_selection_and_tests_round_trip(store: Store,
                                                            codemonkeys_store: Path) -> None:
    migrate_codemonkeys(store, codemonkeys_store)
    patches = store.query("SELECT sample_idx, diff, test, trajectory_id FROM patches "
                          "ORDER BY sample_idx").to_pylist()
    assert [p["diff"] for p in patches] == [DIFF_A, DIFF_B]
    assert patches[0]["test"].endswith("# test0")
    sel = {r["method"]: (r["chosen_sample_idx"], r["patch"]) for r in store.query(
        "SELECT method, chosen_sample_idx, patch FROM selections").to_pylist()}
    assert sel["codemonkeys.model_selection"] == (1, DIFF_B)
    assert sel["codemonkeys.selection_state_machine"] == (0, DIFF_A)
    assert len(sel) == 3
    tests = ["import sys; sys.exit(2)  # test0", "import sys; sys.exit(2)  # test1"]
    matrix = {(r["patch_hash"], r["test_id"]): r["status"] for r in store.query(
        "SELECT patch_hash, test_id, status FROM test_runs WHERE test_kind = 'generated'"
    ).to_pylist()}
    assert matrix[(patch_hash(DIFF_A), text_id(tests[0]))] == "passed"
    assert matrix[(patch_hash(DIFF_A), text_id(tests[1]))] == "failed"
    assert matrix[("", text_id(tests[1]))] == "failed"
    verdicts = {r["patch_hash"]: r["status"] for r in store.query(
        "SELECT patch_hash, status FROM test_runs WHERE test_kind = 'swebench'").to_pylist()}
    assert verdicts == {patch_hash(DIFF_A): "passed", patch_hash(DIFF_B): "failed"}
    # the test texts are readable through contents
    text = store.query("SELECT text FROM contents WHERE content_hash = ?",
                       [text_id(tests[1])]).to_pylist()
    assert text == [{"text": tests[1]}]


def test_codemonkeys_conversations_become_one_sequence_per_assistant_turn(
        store: Store, codemonkeys_store: Path) -> None:
    migrate_codemonkeys(store, codemonkeys_store)
    rows = store.query("SELECT s.sample_idx, len(s.messages) AS n, s.prompt_tokens, "
                       "s.cached_tokens, s.trajectory_id FROM sequences s "
                       "JOIN configs c USING (config_hash) WHERE c.component = "
                       "'codemonkeys.editing' ORDER BY sample_idx").to_pylist()
    assert [(r["sample_idx"], r["n"], r["prompt_tokens"], r["cached_tokens"]) for r in rows] == [
        (0, 2, 90, 40), (1, 2, 90, 40)]
    linked = store.query("SELECT count(*) AS n FROM patches p JOIN sequences s "
                         "USING (trajectory_id)").to_pylist()[0]["n"]
    assert linked == 2


def test_codemonkeys_configs_chain_and_reimport_is_noop(store: Store,
                                                       codemonkeys_store: Path) -> None:
    first = migrate_codemonkeys(store, codemonkeys_store)
    assert len(first.plans) == 10
    configs = {r["component"]: (r["config_hash"], json.loads(r["upstream"]))
               for r in store.query("SELECT * FROM configs").to_pylist()}
    assert configs["codemonkeys.ranking"][1] == {"relevance": configs["codemonkeys.relevance"][0]}
    assert set(configs["codemonkeys.editing"][1]) == {"context", "testing"}
    again = migrate_codemonkeys(store, codemonkeys_store)
    assert again.plans == [] and len(again.unchanged) == 10
    dry = migrate_codemonkeys(store, codemonkeys_store, ImportOptions(dry_run=True))
    assert dry.plans == []


def test_codemonkeys_final_export_becomes_selections(store: Store,
                                                     codemonkeys_store: Path) -> None:
    write_jsonl(codemonkeys_store / "final.jsonl", [
        {"instance_id": "org__pkg-1", "model_name_or_path": "codemonkeys",
         "model_patch": DIFF_A}])
    report = migrate_codemonkeys(store, codemonkeys_store)
    assert "codemonkeys/final" in {p.format for p in report.plans}
    (row,) = store.query("SELECT s.patch FROM selections s JOIN configs c USING (config_hash) "
                         "WHERE c.component = 'codemonkeys.final'").to_pylist()
    assert row["patch"] == DIFF_A
