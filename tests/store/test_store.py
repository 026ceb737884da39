import pyarrow as pa

from swepipe.store.store import insert_rows


def run(test_id: str, status: str = "passed") -> dict:
    return {"instance_id": "o__r-1", "patch_hash": "", "test_kind": "regression",
            "test_id": test_id, "status": status}


def test_insert_rows_returns_the_rows_inserted_not_the_rows_given(store):
    with store.transaction() as conn:
        assert insert_rows(conn, "test_runs", [run("a"), run("b")]) == 2
        # "a" is stored already and "c" comes twice: one row is new
        again = [run("a", "failed"), run("c"), run("c", "failed")]
        assert insert_rows(conn, "test_runs", again, ignore_existing=True) == 1
        assert insert_rows(conn, "test_runs", pa.Table.from_pylist([run("b")]),
                           ignore_existing=True) == 0
        assert insert_rows(conn, "test_runs", []) == 0
    rows = store.query("SELECT test_id, status FROM test_runs ORDER BY test_id").to_pylist()
    assert [r["test_id"] for r in rows] == ["a", "b", "c"] and rows[0]["status"] == "passed"
