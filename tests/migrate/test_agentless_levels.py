"""Agentless localization levels: a v1.0 combined record becomes three chained configs, and no
level present in a source is dropped (issue 14)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from swepipe.cli import main
from swepipe.datasets.ingest import ingest_file
from swepipe.errors import InputError
from swepipe.migrate import migrate_agentless
from swepipe.migrate.agentless import build_plan
from swepipe.migrate.api import level_file_recall
from swepipe.hashing import file_checksum
from swepipe.migrate.importer import ImportOptions, Source, _commit, instance_hashes
from swepipe.migrate.legacy_configs import LegacyConfigs
from swepipe.migrate.plan import FilePlan, ReadContext, StageResult
from swepipe.rewards.compute import compute_rewards
from swepipe.store import Store
from swepipe.store.configs import config_row

from tests.migrate.conftest import V10_GOLD, V10_LEVELS, v10_record, write_json, write_jsonl

GOOD_V15 = {"instance_id": "org__pkg-1", "found_files": ["a.py"], "file_traj": {},
            "found_related_locs": {}, "related_loc_traj": [], "found_edit_locs": {}}

_LOC_LINE = re.compile(r"^[ \t]*(class|function|variable|line)[ \t]*:[ \t]*\S", re.MULTILINE)
LEVEL_COMPONENTS = {"file": "agentless.file_level", "related": "agentless.related_elements",
                    "edit": "agentless.edit_location_samples"}


def direct_recall(level: str) -> dict[str, float]:
    """file_recall of one level counted straight from the fixture's records: a file is found at
    the related/edit level when its entry holds a location line."""
    out = {}
    for iid, (files, related, edit) in V10_LEVELS.items():
        if level == "file":
            found = set(files)
        else:
            entries = related if level == "related" else edit
            found = {f for f, texts in zip(files, entries) if _LOC_LINE.search("\n".join(texts))}
        gold = set(V10_GOLD[iid])
        out[iid] = len(gold & found) / len(gold)
    return out


def _levels(store: Store) -> dict[str, dict]:
    rows = store.query("SELECT config_hash, component, upstream FROM configs WHERE legacy"
                       ).to_pylist()
    return {r["component"]: {**r, "upstream": json.loads(r["upstream"])} for r in rows}


def _per_config(store: Store, table: str) -> dict[str, int]:
    return {r["component"]: r["n"] for r in store.query(
        f"SELECT c.component, count(t.config_hash) AS n FROM configs c LEFT JOIN {table} t "
        "USING (config_hash) GROUP BY 1").to_pylist()}


def test_v10_combined_record_becomes_three_chained_levels(store: Store,
                                                           v10_combined: Path) -> None:
    report = migrate_agentless(store, v10_combined)
    assert report.plans[0].format == "agentless/loc/v1.0"
    levels = _levels(store)
    assert set(levels) == set(LEVEL_COMPONENTS.values())
    file_, related, edit = (levels[LEVEL_COMPONENTS[k]] for k in ("file", "related", "edit"))
    assert file_["upstream"] == {}
    assert related["upstream"] == {"file_level": file_["config_hash"]}
    assert edit["upstream"] == {"related_elements": related["config_hash"]}
    n = len(V10_LEVELS)
    assert _per_config(store, "stage_runs") == {c: n for c in LEVEL_COMPONENTS.values()}
    assert _per_config(store, "sequences") == {c: n for c in LEVEL_COMPONENTS.values()}
    # pointers per level, counted from the records: ranked files; one per location line
    locs = _per_config(store, "localizations")
    assert locs[LEVEL_COMPONENTS["file"]] == sum(len(f) for f, _, _ in V10_LEVELS.values())
    for level, idx in (("related", 1), ("edit", 2)):
        expect = sum(len(_LOC_LINE.findall("\n".join(t))) for v in V10_LEVELS.values()
                     for t in v[idx])
        assert locs[LEVEL_COMPONENTS[level]] == expect, level
    # the instance whose edit locations are all empty keeps its file ranking
    ranked = store.query("SELECT list(file_path ORDER BY rank) AS files FROM localizations "
                         "WHERE config_hash = ? AND instance_id = 'org__pkg-1'",
                         [file_["config_hash"]]).to_pylist()[0]["files"]
    assert ranked == V10_LEVELS["org__pkg-1"][0]
    # each level's trajectory is under its own config
    prompts = {r["component"]: r["text"] for r in store.query(
        "SELECT c.component, t.text FROM sequences s JOIN configs c USING (config_hash), "
        "unnest(s.messages) AS m(msg) JOIN contents t ON t.content_hash = msg.content_hash "
        "WHERE s.instance_id = 'org__pkg-1'").to_pylist()}
    assert prompts == {LEVEL_COMPONENTS["file"]: "which files? org__pkg-1",
                       LEVEL_COMPONENTS["related"]: "which elements? org__pkg-1",
                       LEVEL_COMPONENTS["edit"]: "where to edit? org__pkg-1"}


def test_v10_per_level_file_recall_equals_direct_count(store: Store, v10_combined: Path) -> None:
    ingest_file(store, v10_combined.parents[2] / "dataset.jsonl", dataset="fx")
    migrate_agentless(store, v10_combined, ImportOptions(dataset="fx"))
    compute_rewards(store, stage="localize")
    got = {r["instance_id"]: r for r in level_file_recall(store, v10_combined)}
    assert set(got) == set(V10_LEVELS)
    for level in ("file", "related", "edit"):
        expect = direct_recall(level)
        assert {i: got[i][f"{level}_level"] for i in got} == pytest.approx(expect), level
    # not vacuous: the levels disagree, and the file level keeps what the edit level lost
    assert got["org__pkg-1"]["file_level"] == 1.0 and got["org__pkg-1"]["edit_level"] == 0.0
    assert len({tuple(direct_recall(lv).values()) for lv in ("file", "related", "edit")}) == 3


def test_levels_with_flags_in_args_json_match_content(store: Store, v10_combined: Path) -> None:
    write_json(v10_combined.parent / "args.json", {
        "file_level": True, "related_level": True, "fine_grain_line_level": True,
        "top_n": 3, "model": "gpt-4o-2024-05-13", "num_threads": 4})
    migrate_agentless(store, v10_combined)
    assert set(_levels(store)) == set(LEVEL_COMPONENTS.values())
    assert store.query("SELECT DISTINCT model FROM sequences").to_pylist() == [
        {"model": "gpt-4o-2024-05-13"}]


def test_dry_run_prints_each_level_with_row_counts(tmp_path: Path, v10_combined: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    db = tmp_path / "s.duckdb"
    assert main(["--store", str(db), "migrate", "agentless", str(v10_combined), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert not db.exists()
    n = len(V10_LEVELS)
    n_files = sum(len(f) for f, _, _ in V10_LEVELS.values())
    n_related, n_edit = (sum(len(_LOC_LINE.findall("\n".join(t))) for v in V10_LEVELS.values()
                             for t in v[idx]) for idx in (1, 2))
    assert f"would import {v10_combined} [agentless/loc/v1.0]" in out
    assert re.search(rf"  file level -> agentless.file_level \w{{12}}: localizations={n_files}, "
                     rf"sequences={n}, stage_runs={n}\n", out), out
    assert re.search(rf"  related level -> agentless.related_elements \w{{12}}: "
                     rf"localizations={n_related}, "
                     rf"sequences={n}, stage_runs={n}\n", out), out
    assert re.search(rf"  edit level -> agentless.edit_location_samples \w{{12}}: "
                     rf"localizations={n_edit}, sequences={n}, stage_runs={n}\n", out), out


def _old_layout_import(store: Store, paths: list[Path]) -> dict[str, str]:
    """The store as the importer left it before levels were kept: a localization file of
    several levels kept only its finest, under one config with the file's own upstream (none
    here); a config chained to it carries that old hash; `legacy_imports` rows have no layout.
    `paths`: upstream files first. Returns new config hash -> old config hash."""
    ctx = ReadContext(configs=LegacyConfigs())
    old_of: dict[str, str] = {}
    members = []
    for path in paths:
        plan = build_plan(path, file_checksum(path), ctx)
        multi = len(plan.levels) > 1
        keep = list(plan.configs)[-1:] if multi else list(plan.configs)
        old = FilePlan(source=plan.source, checksum=plan.checksum, format=plan.format,
                       records=plan.records)
        for h in keep:
            row = plan.configs[h]
            up = {} if multi else {k: old_of.get(v, v)
                                   for k, v in json.loads(row["upstream"]).items()}
            old_row = config_row(row["stage"], row["component"], "legacy",
                                 json.loads(row["params"]), up, legacy=True)
            old_of[h] = old_row["config_hash"]
            old.configs[old_row["config_hash"]] = old_row
        old.results = [StageResult(r.stage, old_of[r.config_hash], r.instance_id, r.value)
                       for r in plan.results if r.config_hash in keep]
        old.add_rows("sequences", [{**q, "config_hash": old_of[q["config_hash"]]}
                                   for q in plan.tables.get("sequences", [])
                                   if q["config_hash"] in keep])
        old.contents = plan.contents
        members.append((Source(path, lambda c, ctx, o=old: o), old))
    with store.session():
        _commit(store, members, instance_hashes(store, None), [])
        with store.connect() as conn:
            for _, old in members:
                conn.execute("UPDATE legacy_imports SET rows = ? WHERE checksum = ?",
                             [json.dumps(old.counts()), old.checksum])
    return old_of


def _totals(store: Store) -> dict[str, int]:
    return store.query("SELECT (SELECT count(*) FROM configs) AS configs, "
                       "(SELECT count(*) FROM stage_runs) AS stage_runs, "
                       "(SELECT count(*) FROM localizations) AS localizations, "
                       "(SELECT count(*) FROM sequences) AS sequences, "
                       "(SELECT count(*) FROM legacy_imports) AS imports").to_pylist()[0]


def test_remigrating_an_old_one_config_import_replaces_it_without_duplicates(
        tmp_path: Path, v10_combined: Path) -> None:
    fresh = Store(tmp_path / "fresh.duckdb")
    migrate_agentless(fresh, v10_combined)
    store = Store(tmp_path / "old.duckdb")
    (old,) = _old_layout_import(store, [v10_combined]).values()
    assert _totals(store)["stage_runs"] == len(V10_LEVELS)
    # migrating again: the old layout is not "unchanged"; the dry run says what it replaces
    dry = migrate_agentless(store, v10_combined, ImportOptions(dry_run=True))
    assert f"  replaces agentless.edit_location_samples {old[:12]} (an earlier import layout " \
           f"of this file): stage_runs={len(V10_LEVELS)}" in str(dry)
    migrate_agentless(store, v10_combined)
    assert _totals(store) == _totals(fresh)
    assert old not in {c["config_hash"] for c in _levels(store).values()}
    assert store.query("SELECT count(*) AS n FROM stage_runs WHERE config_hash = ?", [old]
                       ).to_pylist()[0]["n"] == 0
    same = "SELECT config_hash, instance_id, sample_idx, pointer_idx, file_path, kind, symbol, " \
           "start_line FROM localizations ORDER BY ALL"
    assert store.query(same).to_pylist() == fresh.query(same).to_pylist()
    layout = store.query("SELECT rows->>'layout' AS l FROM legacy_imports").to_pylist()
    assert layout == [{"l": "2"}]
    again = migrate_agentless(store, v10_combined)
    assert again.plans == [] and again.unchanged == [str(v10_combined)]


def test_remigrating_a_tree_rechains_files_that_started_from_the_old_config(
        tmp_path: Path, v10_combined: Path) -> None:
    results = v10_combined.parents[1]
    merged = results / "location_merged" / "loc_merged_0-0_outputs.jsonl"
    write_json(merged.parent / "args.json", {
        "merge": True, "start_file": "results/location/loc_outputs.jsonl", "num_samples": 1})
    write_jsonl(merged, [v10_record(i) for i in V10_LEVELS])
    fresh = Store(tmp_path / "fresh.duckdb")
    migrate_agentless(fresh, results)
    store = Store(tmp_path / "old.duckdb")
    old_of = _old_layout_import(store, [v10_combined, merged])
    before = _levels(store)  # the old layout: the merged file chained to the one config
    assert set(before) == {"agentless.edit_location_samples",
                           "agentless.edit_location_individual"}
    assert before["agentless.edit_location_individual"]["upstream"] == {
        "start_file": before["agentless.edit_location_samples"]["config_hash"]}
    report = migrate_agentless(store, results)
    assert sum(len(p.superseded) for p in report.plans) == 2  # the combined and the merged file
    assert _totals(store) == _totals(fresh)
    levels = _levels(store)
    assert levels["agentless.edit_location_individual"]["upstream"] == {
        "start_file": levels["agentless.edit_location_samples"]["config_hash"]}
    assert not set(old_of.values()) & {c["config_hash"] for c in levels.values()}


def test_v10_several_edit_samples_keep_their_indices(store: Store, tmp_path: Path) -> None:
    rec = {**v10_record("org__pkg-2"),
           "found_edit_locs": [[["line: 3"], [""]], [[""], [""]], [[""], ["function: g"]]]}
    path = write_jsonl(tmp_path / "location" / "loc_outputs.jsonl", [rec])
    migrate_agentless(store, path)
    rows = store.query("SELECT l.sample_idx, l.file_path FROM localizations l JOIN configs c "
                       "USING (config_hash) WHERE c.component = 'agentless.edit_location_samples'"
                       " ORDER BY 1").to_pylist()
    assert [(r["sample_idx"], r["file_path"]) for r in rows] == [(0, "pkg/a.py"), (2, "pkg/b.py")]
    assert _per_config(store, "localizations")["agentless.file_level"] == 2


def test_v10_an_empty_first_edit_sample_keeps_the_others(store: Store, tmp_path: Path) -> None:
    rec = {**v10_record("org__pkg-2"), "found_edit_locs": [[], [["line: 3"], [""]]]}
    path = write_jsonl(tmp_path / "location" / "loc_outputs.jsonl", [rec])
    migrate_agentless(store, path)
    rows = store.query("SELECT l.sample_idx, l.file_path, l.start_line FROM localizations l "
                       "JOIN configs c USING (config_hash) "
                       "WHERE c.component = 'agentless.edit_location_samples'").to_pylist()
    assert rows == [{"sample_idx": 1, "file_path": "pkg/a.py", "start_line": 3}]


def test_v15_levels_in_an_unknown_folder_are_all_kept(store: Store, tmp_path: Path) -> None:
    rec = {**GOOD_V15, "found_related_locs": {"a.py": ["class: A"]},
           "found_edit_locs": {"a.py": [""]}}
    path = write_jsonl(tmp_path / "my_run" / "loc_outputs.jsonl", [rec])
    report = migrate_agentless(store, path)
    assert report.plans[0].format == "agentless/loc/v1.5"
    assert _per_config(store, "stage_runs") == {c: 1 for c in LEVEL_COMPONENTS.values()}
    # with a start file named in args.json, the coarser levels are copies: only the finest
    store2 = Store(tmp_path / "s2.duckdb")
    write_json(path.parent / "args.json", {"start_file": "results/related/loc_outputs.jsonl"})
    migrate_agentless(store2, path)
    assert set(_levels(store2)) == {"agentless.edit_location_samples"}


def test_another_tools_localization_jsonl_is_refused_naming_line_and_keys(
        store: Store, tmp_path: Path) -> None:
    good = v10_record("org__pkg-1")
    path = write_jsonl(tmp_path / "location" / "loc_outputs.jsonl", [
        good, {**v10_record("org__pkg-2")},
        {"instance_id": "org__pkg-3", "found_files": ["a.py"], "found_modules": ["a.py:f"],
         "found_entities": ["a.py:f"]}])
    with pytest.raises(InputError) as exc:
        migrate_agentless(store, path)
    text = str(exc.value)
    assert f"{path}:3: unknown localization format: keys ['found_entities', 'found_modules']" \
        in text
    assert "expected instance_id, additional_artifact_loc_edit_location" in text
    assert "found_files" in text.split("expected", 1)[1]
    assert not store.path.exists()  # nothing written, not even the first two records
    # a file of only another tool's records (found_files beside other keys)
    other = write_jsonl(tmp_path / "locagent.jsonl", [
        {"instance_id": "x", "found_files": ["a.py"], "raw_output_loc": ["..."]}])
    with pytest.raises(InputError, match=rf"{other}:1: unknown localization format: keys "
                                         r"\['raw_output_loc'\].*expected instance_id, "
                                         "additional_artifact_loc_file, file_traj, found_files"):
        migrate_agentless(store, other)
    # none of the known keys: the refusal says what was expected
    none = write_jsonl(tmp_path / "none.jsonl", [{"instance_id": "x", "locations": []}])
    with pytest.raises(InputError, match=rf"{none}:1: unknown format: .*expected an Agentless "
                                         r"localization record \(instance_id, found_files"):
        migrate_agentless(store, none)
    assert not store.path.exists()
    # --skip-bad does not import part of it, nor record it as imported
    with pytest.raises(InputError, match=rf"refused whole, also with --skip-bad\)\n  {path}:3: "
                                         "unknown localization format"):
        migrate_agentless(store, path, ImportOptions(skip_bad=True))
    assert not store.path.exists()


def test_v10_cli_levels_command_prints_recall_per_level(tmp_path: Path, v10_combined: Path,
                                                        capsys: pytest.CaptureFixture) -> None:
    db = str(tmp_path / "s.duckdb")
    assert main(["--store", db, "ingest", str(v10_combined.parents[2] / "dataset.jsonl"),
                 "--dataset", "fx"]) == 0
    assert main(["--store", db, "migrate", "agentless", str(v10_combined),
                 "--dataset", "fx"]) == 0
    assert main(["--store", db, "rewards", "--stage", "localize"]) == 0
    capsys.readouterr()
    assert main(["--store", db, "migrate", "levels", str(v10_combined)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["instance_id", "file", "related", "edit"]
    assert lines[1].split() == ["org__pkg-1", "1.00", "1.00", "0.00"]
    assert len(lines) == 1 + len(V10_LEVELS)


def test_migrate_into_an_unknown_dataset_names_the_held_ones(tmp_path: Path, v10_combined: Path,
                                                            capsys: pytest.CaptureFixture
                                                            ) -> None:
    db = tmp_path / "s.duckdb"
    assert main(["--store", str(db), "migrate", "agentless", str(v10_combined),
                 "--dataset", "fx"]) == 2
    assert "unknown dataset 'fx' (known: none); run `swepipe ingest FILE --dataset fx` on " \
        in capsys.readouterr().err
    assert not db.exists()  # a refused import leaves no store behind
    assert main(["--store", str(db), "ingest", str(v10_combined.parents[2] / "dataset.jsonl"),
                 "--dataset", "fx"]) == 0
    capsys.readouterr()
    assert main(["--store", str(db), "migrate", "agentless", str(v10_combined),
                 "--dataset", "lite"]) == 2
    assert "unknown dataset 'lite' (known: fx); " in capsys.readouterr().err


def test_levels_command_on_a_file_never_imported_is_an_error(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture
                                                              ) -> None:
    path = write_jsonl(tmp_path / "loc_outputs.jsonl", [v10_record("org__pkg-1")])
    db = str(tmp_path / "s.duckdb")
    assert main(["--store", db, "migrate", "levels", str(path)]) == 2
    assert f"{path}: not imported" in capsys.readouterr().err


def test_a_reference_chains_to_the_finest_level_even_when_it_starts_late(
        store: Store, tmp_path: Path) -> None:
    # no args.json: the levels come from content, and the edit level first shows on line 56
    base = v10_record("org__pkg-2")
    early = [{**base, "instance_id": f"org__early-{i}", "found_related_locs": [],
              "found_edit_locs": []} for i in range(55)]
    write_jsonl(tmp_path / "results" / "location" / "loc_outputs.jsonl", early + [base])
    merged = tmp_path / "results" / "location_merged" / "loc_merged_0-0_outputs.jsonl"
    write_json(merged.parent / "args.json", {
        "merge": True, "start_file": "results/location/loc_outputs.jsonl"})
    write_jsonl(merged, [base])
    migrate_agentless(store, tmp_path / "results")
    levels = _levels(store)
    assert set(levels) == {*LEVEL_COMPONENTS.values(), "agentless.edit_location_individual"}
    assert levels["agentless.edit_location_individual"]["upstream"] == {
        "start_file": levels["agentless.edit_location_samples"]["config_hash"]}
    assert _per_config(store, "stage_runs")["agentless.edit_location_samples"] == 56
