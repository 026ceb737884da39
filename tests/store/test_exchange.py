import json

import pytest

from swepipe.datasets.ingest import ingest_instances
from swepipe.errors import InputError
from swepipe.store import Store
from swepipe.store.exchange import export_store, import_store
from swepipe.store.sequences import sequence_rows
from swepipe.store.store import insert_rows, list_tables
from swepipe.store.writer import StageCommit, write_units
from swepipe.store.codecs import to_rows
from swepipe.types import Choice, CodePointer, Message, Patch, SamplingParams, Selection

from tests.store.helpers import make_instances


def fill(store: Store) -> None:
    instances = make_instances(3)
    ingest_instances(store, instances, "demo", "test")
    with store.transaction() as conn:
        units = []
        for inst in instances:
            h = inst.content_hash()
            units += [
                StageCommit("localize", "c" * 64, inst.instance_id, h, "done",
                            to_rows("localize", [CodePointer(file_path="a.py", start_line=1,
                                                             end_line=4, kind="lines")])),
                StageCommit("generate", "d" * 64, inst.instance_id, h, "done",
                            to_rows("generate", [Patch(diff="x", files=["a.py"], meta={"t": 1})])),
                StageCommit("select", "e" * 64, inst.instance_id, h, "done",
                            to_rows("select", Selection(chosen_sample_idx=0, patch="x",
                                                        method="vote", scores={0: 1.5}))),
                StageCommit("localize", "f" * 64, inst.instance_id, h, "failed",
                            error_class="ModelError", error_message="429"),
            ]
        write_units(conn, units)
        seq, contents = sequence_rows(model="m", messages=[Message(role="user", content="hi")],
                                      params=SamplingParams(), choices=[
                                          Choice(text="yo", token_ids=[1, 2], logprobs=[-0.1, -0.2])])
        insert_rows(conn, "sequences", [seq])
        insert_rows(conn, "contents", contents)
        insert_rows(conn, "rewards", [{"instance_id": "demo__repo-0", "stage": "localize",
                                       "config_hash": "c" * 64, "sample_idx": -1,
                                       "metric": "file_recall", "value": 1.0}])


def test_export_then_import_is_lossless(tmp_path):
    src = Store(tmp_path / "a.duckdb")
    fill(src)
    report = export_store(src, tmp_path / "out")
    assert report.tables["localizations"] == 3 and report.bytes > 0
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["schema_version"] == src.schema_version()
    assert (tmp_path / "out" / "stage_runs" / "stage=localize").is_dir()
    dst = Store(tmp_path / "b.duckdb")
    import_store(dst, tmp_path / "out")
    with src.connect() as a_conn:
        tables = [t for t in list_tables(a_conn) if t != "schema_migrations"]
        a = {t: sorted(map(repr, a_conn.execute(f'SELECT * FROM "{t}"').fetchall())) for t in tables}
    with dst.connect() as b_conn:
        b = {t: sorted(map(repr, b_conn.execute(f'SELECT * FROM "{t}"').fetchall())) for t in tables}
        types_a = {t: src.query(f'DESCRIBE "{t}"').to_pylist() for t in tables}
    assert a == b
    assert types_a == {t: dst.query(f'DESCRIBE "{t}"').to_pylist() for t in tables}
    again = import_store(dst, tmp_path / "out")
    assert sum(again.tables.values()) == 0


def test_export_refuses_a_non_empty_folder(tmp_path, store):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "x").write_text("keep me")
    with pytest.raises(InputError, match="not empty"):
        export_store(store, tmp_path / "out")


def test_import_refuses_other_schema_versions_and_non_exports(tmp_path, store):
    with pytest.raises(InputError, match="no manifest.json"):
        import_store(store, tmp_path)
    (tmp_path / "manifest.json").write_text(json.dumps({"schema_version": 999, "tables": {}}))
    with pytest.raises(InputError, match="schema version 999"):
        import_store(store, tmp_path)
