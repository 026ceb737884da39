"""`swepipe predictions`: harness-format JSONL from the current selections of a config."""

import json

import pytest

from swepipe.cli import main
from swepipe.errors import InputError
from swepipe.select.predictions import HARNESS_KEYS, resolve_config, write_predictions
from swepipe.store.codecs import to_rows
from swepipe.store.configs import config_row, register_configs
from swepipe.store.writer import StageCommit, write_units
from swepipe.types import Selection


def write_selection(store, config_hash, instance_id, patch, chosen=0):
    unit = StageCommit(stage="select", config_hash=config_hash, instance_id=instance_id,
                       instance_hash="h", status="done", skip_if_done=False,
                       rows=to_rows("select", Selection(chosen_sample_idx=chosen, patch=patch,
                                                        method="majority_vote")))
    with store.transaction() as conn:
        write_units(conn, [unit])


@pytest.fixture
def configs(store):
    rows = [config_row("select", "majority_vote", "1", {"n": i}) for i in range(40)]
    with store.transaction() as conn:
        register_configs(conn, rows)
    return [r["config_hash"] for r in rows]


def test_predictions_file_has_exactly_the_harness_keys_and_the_latest_attempt(
        store, configs, tmp_path, capsys):
    cfg = configs[0]
    write_selection(store, cfg, "b__b-2", "old diff\n")
    write_selection(store, cfg, "b__b-2", "new diff\n")  # attempt 2 is current
    write_selection(store, cfg, "a__a-1", "", chosen=None)
    write_selection(store, configs[1], "a__a-1", "other config\n")
    out = tmp_path / "preds" / "out.jsonl"
    assert main(["--store", str(store.path), "predictions", "--config", cfg[:10], str(out)]) == 0
    assert "2 predictions written" in capsys.readouterr().out
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(tuple(sorted(r)) == tuple(sorted(HARNESS_KEYS)) for r in rows)
    assert [(r["instance_id"], r["model_patch"]) for r in rows] == [
        ("a__a-1", ""), ("b__b-2", "new diff\n")]
    assert rows[0]["model_name_or_path"] == f"swepipe-majority_vote-{cfg[:12]}"


def test_model_name_can_be_given(store, configs, tmp_path):
    write_selection(store, configs[0], "a__a-1", "d\n")
    report = write_predictions(store, configs[0], tmp_path / "p.jsonl", model_name="mine")
    assert report.written == 1
    assert json.loads((tmp_path / "p.jsonl").read_text())["model_name_or_path"] == "mine"


def test_unknown_and_ambiguous_prefixes_are_clear_errors(store, configs, tmp_path, capsys):
    with pytest.raises(InputError, match="no selection config matches"):
        resolve_config(store, "zzzz")
    # 40 configs share some one-hex-digit prefix
    prefix = max("0123456789abcdef", key=lambda c: sum(h.startswith(c) for h in configs))
    with pytest.raises(InputError, match="ambiguous"):
        resolve_config(store, prefix)
    assert main(["--store", str(store.path), "predictions", "--config", "zzzz",
                 str(tmp_path / "x.jsonl")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_a_config_known_only_from_stage_runs_resolves(store):
    write_selection(store, "f" * 64, "a__a-1", "d\n")
    assert resolve_config(store, "ffff") == ("f" * 64, None)
