"""The real legacy caches in ../shared/data/legacy import, and what lands matches the source."""

from __future__ import annotations

import json
import re
from pathlib import Path

from swepipe.datasets.ingest import ingest_file
from swepipe.migrate import migrate_agentless
from swepipe.migrate.importer import ImportOptions
from swepipe.store import Store

_LOC_LINE = re.compile(r"^[ \t]*(class|function|variable|line)[ \t]*:[ \t]*\S", re.MULTILINE)
"""A location line with a name (a bare `class:` at the end of a cut-off answer is none)."""


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _config(store: Store, folder: str, file: str) -> str:
    rows = store.query("SELECT config_hash FROM configs WHERE legacy AND "
                       "params->>'legacy_file' = ? AND params->>'output_folder' LIKE ?",
                       [file, f"%/{folder}"]).to_pylist()
    assert len(rows) == 1, (folder, file, rows)
    return rows[0]["config_hash"]


def _count(store: Store, table: str, config_hash: str) -> int:
    return store.query(f"SELECT count(*) AS n FROM {table} WHERE config_hash = ?",
                       [config_hash]).to_pylist()[0]["n"]


def _n_locations(value: object) -> int:
    if isinstance(value, dict):
        return sum(len(_LOC_LINE.findall("\n".join(v))) for v in value.values())
    return sum(_n_locations(v) for v in value)  # type: ignore[union-attr]


def test_real_agentless_v15_counts_match_source(store: Store, legacy_dir: Path) -> None:
    migrate_agentless(store, legacy_dir)
    run = legacy_dir / "agentless-v1.5-lite-7"
    expect = {  # folder, file -> (field whose entries become pointers, trajectory field)
        ("file_level", "loc_outputs.jsonl"): "found_files",
        ("file_level_irrelevant", "loc_outputs.jsonl"): "found_files",
        ("retrievel_embedding", "retrieve_locs.jsonl"): "found_files",
        ("file_level_combined", "combined_locs.jsonl"): "found_files",
        ("related_elements", "loc_outputs.jsonl"): "found_related_locs",
        ("edit_location_samples", "loc_outputs.jsonl"): "found_edit_locs",
        **{("edit_location_individual", f"loc_merged_{i}-{i}_outputs.jsonl"): "found_edit_locs"
           for i in range(4)},
    }
    for (folder, file), field in expect.items():
        rows = _rows(run / folder / file)
        cfg = _config(store, folder, file)
        assert _count(store, "stage_runs", cfg) == len(rows), (folder, file)
        n = sum(len(r[field]) if field == "found_files" else _n_locations(r[field])
                for r in rows)
        assert _count(store, "localizations", cfg) == n, (folder, file)
    # one sequence per model call: file_traj, each related retry, the edit-location call
    for folder, field in (("file_level", "file_traj"), ("related_elements", "related_loc_traj"),
                          ("edit_location_samples", "edit_loc_traj")):
        rows = _rows(run / folder / "loc_outputs.jsonl")
        calls = sum(len(r[field]) if isinstance(r[field], list) else 1 for r in rows)
        assert _count(store, "sequences", _config(store, folder, "loc_outputs.jsonl")) == calls


def test_real_agentless_v10_repair_counts_match_source(store: Store, legacy_dir: Path) -> None:
    report = migrate_agentless(store, legacy_dir / "agentless-v1.0-repair")
    rows = _rows(legacy_dir / "agentless-v1.0-repair" / "output_0_normalized.jsonl")
    got = store.query("SELECT instance_id, diff, normalized_diff, status, attempt FROM patches "
                      "ORDER BY instance_id").to_pylist()
    assert [g["instance_id"] for g in got] == sorted(r["instance_id"] for r in rows)
    by_id = {r["instance_id"]: r for r in rows}
    assert all(g["diff"] == by_id[g["instance_id"]]["model_patch"] for g in got)
    assert all(g["normalized_diff"] == by_id[g["instance_id"]]["normalized_patch"] for g in got)
    assert sum(g["status"] == "empty" for g in got) == sum(not r["model_patch"] for r in rows)
    # processed + normalized of one folder merge into one attempt, not two
    assert {g["attempt"] for g in got} == {1}
    assert {p.format for p in report.plans} == {"agentless/repair/single-file"}


def test_config_chain_links_combined_to_file_level_and_retrieval(store: Store,
                                                                 legacy_dir: Path) -> None:
    migrate_agentless(store, legacy_dir / "agentless-v1.5-lite-7")
    upstream = json.loads(store.query(
        "SELECT upstream FROM configs WHERE component = 'agentless.file_level_combined'"
    ).to_pylist()[0]["upstream"])
    assert upstream == {"model_loc_file": _config(store, "file_level", "loc_outputs.jsonl"),
                        "retrieval_loc_file": _config(store, "retrievel_embedding",
                                                      "retrieve_locs.jsonl")}
    legacy = store.query("SELECT bool_and(legacy AND code_version = 'legacy') AS ok "
                         "FROM configs").to_pylist()[0]["ok"]
    assert legacy


def test_reimport_same_files_is_noop(store: Store, legacy_dir: Path) -> None:
    migrate_agentless(store, legacy_dir)
    before = store.query("SELECT (SELECT count(*) FROM stage_runs) AS s, "
                         "(SELECT count(*) FROM sequences) AS q, "
                         "(SELECT count(*) FROM legacy_imports) AS i").to_pylist()
    report = migrate_agentless(store, legacy_dir)
    after = store.query("SELECT (SELECT count(*) FROM stage_runs) AS s, "
                        "(SELECT count(*) FROM sequences) AS q, "
                        "(SELECT count(*) FROM legacy_imports) AS i").to_pylist()
    assert before == after
    assert report.plans == [] and len(report.unchanged) == before[0]["i"]


def test_dry_run_writes_nothing(store: Store, legacy_dir: Path) -> None:
    report = migrate_agentless(store, legacy_dir, ImportOptions(dry_run=True))
    assert not store.path.exists()
    assert "would import" in str(report) and len(report.plans) >= 13
    migrate_agentless(store, legacy_dir / "agentless-v1.0-repair")
    size = store.path.stat().st_size
    mtime = store.path.stat().st_mtime_ns
    migrate_agentless(store, legacy_dir, ImportOptions(dry_run=True))
    assert (store.path.stat().st_size, store.path.stat().st_mtime_ns) == (size, mtime)


def test_legacy_imports_records_path_checksum_format_and_counts(store: Store,
                                                                legacy_dir: Path) -> None:
    migrate_agentless(store, legacy_dir / "agentless-v1.5-lite-7" / "file_level")
    rows = store.query("SELECT source_path, checksum, format, rows FROM legacy_imports "
                       "ORDER BY source_path").to_pylist()
    assert [Path(r["source_path"]).name for r in rows] == ["loc_outputs-01.jsonl",
                                                           "loc_outputs.jsonl"]
    assert {r["format"] for r in rows} == {"agentless/loc/v1.5"}
    counts = json.loads(rows[1]["rows"])
    assert counts["records"] == 7 and counts["stage_runs"] == 7 and counts["localizations"] == 30
    assert all(len(r["checksum"]) == 64 for r in rows)


_FILE_RECALL = """
    WITH cur AS (SELECT config_hash, instance_id, max(attempt) AS attempt FROM stage_runs
                 WHERE status = 'done' AND config_hash = $cfg GROUP BY ALL),
         found AS (SELECT DISTINCT l.instance_id, l.file_path FROM localizations l
                   JOIN cur USING (config_hash, instance_id, attempt)),
         gold AS (SELECT g.instance_id, g.path FROM gold_files g
                  JOIN dataset_instances d USING (instance_id, revision)
                  WHERE d.dataset = 'lite' AND g.instance_id IN (SELECT instance_id FROM cur))
    SELECT gold.instance_id, count(found.file_path) / count(*) AS recall
    FROM gold LEFT JOIN found ON found.instance_id = gold.instance_id
                             AND found.file_path = gold.path
    GROUP BY 1"""


def test_file_recall_in_sql_matches_hand_check(store: Store, legacy_dir: Path,
                                               lite_path: Path) -> None:
    ingest_file(store, lite_path, dataset="lite")
    run = legacy_dir / "agentless-v1.5-lite-7"
    migrate_agentless(store, run / "file_level", ImportOptions(dataset="lite"))
    migrate_agentless(store, run / "retrievel_embedding", ImportOptions(dataset="lite"))
    # hand check from the raw files: gold files are the a/ paths of the gold diff headers
    gold = {}
    for line in lite_path.read_text().splitlines():
        row = json.loads(line)
        gold[row["instance_id"]] = set(re.findall(r"^diff --git a/(\S+) ", row["patch"], re.M))
    total = 0.0
    for folder, file in (("file_level", "loc_outputs.jsonl"),
                         ("retrievel_embedding", "retrieve_locs.jsonl")):
        cfg = _config(store, folder, file)
        recall = {r["instance_id"]: r["recall"]
                  for r in store.query(_FILE_RECALL, {"cfg": cfg}).to_pylist()}
        hand = {r["instance_id"]: len(gold[r["instance_id"]] & set(r["found_files"]))
                / len(gold[r["instance_id"]]) for r in _rows(run / folder / file)}
        assert recall == hand, folder
        total += sum(hand.values())
    assert 0 < total < 14  # retrieval found nothing for two instances: the check is not vacuous
    # rows carry the dataset revision's hash, so rewards can join them to the gold patch
    missing = store.query("SELECT count(*) AS n FROM stage_runs WHERE instance_hash IS NULL"
                          ).to_pylist()[0]["n"]
    assert missing == 0
