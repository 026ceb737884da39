"""Truncated, mistyped and unknown-format inputs give errors naming file and line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from swepipe.cli import main
from swepipe.errors import InputError
from swepipe.migrate import migrate_agentless, migrate_codemonkeys
from swepipe.migrate.importer import ImportOptions
from swepipe.store import Store

from tests.migrate.conftest import write_json, write_jsonl

GOOD = {"instance_id": "org__pkg-1", "found_files": ["a.py"], "file_traj": {},
        "found_related_locs": {}, "related_loc_traj": [], "found_edit_locs": {}}


def _file_with_bad_lines(tmp_path: Path) -> Path:
    path = write_jsonl(tmp_path / "file_level" / "loc_outputs.jsonl", [
        GOOD, {**GOOD, "instance_id": "org__pkg-2", "found_files": "a.py"},
        {**GOOD, "instance_id": "org__pkg-3"}])
    with path.open("a") as fh:
        fh.write(json.dumps({**GOOD, "instance_id": "org__pkg-4"})[:40] + "\n")
        fh.write(json.dumps(GOOD) + "\n")
    return path


def test_bad_lines_refuse_the_file_listing_every_line(store: Store, tmp_path: Path) -> None:
    path = _file_with_bad_lines(tmp_path)
    with pytest.raises(InputError) as exc:
        migrate_agentless(store, path)
    text = str(exc.value)
    assert f"{path}:2: field 'found_files'" in text and "valid list" in text
    assert f"{path}:4: invalid JSON" in text and "truncated" in text
    assert f"{path}:5: duplicate instance_id 'org__pkg-1' (first at line 1)" in text
    assert "3 bad lines" in text
    assert not store.path.exists()  # nothing written, not even a store


def test_skip_bad_quarantines_bad_lines_and_imports_the_rest(store: Store,
                                                            tmp_path: Path) -> None:
    path = _file_with_bad_lines(tmp_path)
    report = migrate_agentless(store, path, ImportOptions(skip_bad=True))
    assert report.quarantined == 3 and "3 bad lines quarantined" in str(report)
    assert store.query("SELECT list(instance_id ORDER BY instance_id) AS ids FROM stage_runs"
                       ).to_pylist()[0]["ids"] == ["org__pkg-1", "org__pkg-3"]
    bad = store.query("SELECT line, reason, raw FROM legacy_quarantine ORDER BY line").to_pylist()
    assert [b["line"] for b in bad] == [2, 4, 5]
    assert bad[1]["raw"].startswith('{"instance_id": "org__pkg-4"')
    counts = json.loads(store.query("SELECT rows FROM legacy_imports").to_pylist()[0]["rows"])
    assert counts["bad_lines"] == 3


def test_unknown_format_is_an_error_naming_file_and_line(store: Store, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "mystery.jsonl", [{"hello": 1}, {"world": 2}])
    with pytest.raises(InputError, match=rf"{path}:1: unknown format: .*'hello', 'world'"):
        migrate_agentless(store, path)
    other = tmp_path / "notes.txt"
    other.write_text("hi")
    with pytest.raises(InputError, match=rf"{other}: unknown format"):
        migrate_agentless(store, other)


def test_mixed_generations_in_one_file_are_bad_lines(store: Store, tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "related_elements" / "loc_outputs.jsonl", [
        {**GOOD, "found_related_locs": {"a.py": ["class: A"]}},
        {**GOOD, "instance_id": "org__pkg-2", "found_related_locs": [["class: A"]]}])
    with pytest.raises(InputError, match=rf"{path}:2: per-file locations are v1.0-shaped in a "
                                         "v1.5 file"):
        migrate_agentless(store, path)


def test_codemonkeys_mistyped_and_truncated_files_are_named(store: Store,
                                                             codemonkeys_store: Path) -> None:
    inst = codemonkeys_store / "org__pkg-1"
    write_json(inst / "01_relevance_decisions" / "pkg" / "d.py.json",
               {"message": "x", "status": "maybe"})
    ranking = inst / "02_ranking.json"
    ranking.write_text(ranking.read_text()[:-30])
    with pytest.raises(InputError) as exc:
        migrate_codemonkeys(store, codemonkeys_store)
    text = str(exc.value)
    assert f"{inst}/01_relevance_decisions/pkg/d.py.json:1: field 'status'" in text
    assert f"{ranking}:1: invalid JSON" in text


def test_cli_prints_one_error_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = write_jsonl(tmp_path / "mystery.jsonl", [{"hello": 1}])
    code = main(["--store", str(tmp_path / "s.duckdb"), "migrate", "agentless", str(path)])
    assert code == 2
    assert "unknown format" in capsys.readouterr().err


def test_v10_lists_longer_than_found_files_are_bad_lines(store: Store, tmp_path: Path) -> None:
    # v1.0 per-file lists are aligned with found_files: a longer list has no file to belong to
    rec = {**GOOD, "found_files": ["a.py"], "found_related_locs": [["class: A"], ["class: B"]],
           "found_edit_locs": [[""]]}
    path = write_jsonl(tmp_path / "location" / "loc_outputs.jsonl",
                       [{**rec, "found_related_locs": [["class: A"]]},
                        {**rec, "instance_id": "org__pkg-2"}])
    with pytest.raises(InputError, match=rf"{path}:2: 2 per-file entries but only 1 found_files"):
        migrate_agentless(store, path)
    assert not store.path.exists()  # nothing written, not even the good line


@pytest.mark.parametrize("text, reason", [("{\"model\": ", "unreadable args.json"),
                                          ("[1, 2]", "args.json must hold one JSON object")])
def test_a_bad_args_json_is_an_error_naming_it(store: Store, tmp_path: Path, text: str,
                                               reason: str) -> None:
    path = write_jsonl(tmp_path / "file_level" / "loc_outputs.jsonl", [GOOD])
    (path.parent / "args.json").write_text(text)
    with pytest.raises(InputError, match=rf"{path.parent / 'args.json'}: {reason}"):
        migrate_agentless(store, path)
    assert not store.path.exists()
