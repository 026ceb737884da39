import duckdb
import pytest

from swepipe.errors import StoreError
from swepipe.store import Store
from swepipe.store.migrations import available_migrations, code_schema_version


def test_new_store_applies_every_migration_with_checksums(store):
    assert store.schema_version() == code_schema_version()
    rows = store.query("SELECT version, name, checksum FROM schema_migrations ORDER BY 1").to_pylist()
    assert [(r["version"], r["name"], r["checksum"]) for r in rows] == [
        (m.version, m.name, m.checksum) for m in available_migrations()]


def test_store_newer_than_code_is_refused_naming_both_versions(store):
    store.schema_version()
    with duckdb.connect(str(store.path)) as conn:
        conn.execute("INSERT INTO schema_migrations VALUES (99, '0099_future.sql', 'x', now())")
    with pytest.raises(StoreError, match=rf"version 99.*version {code_schema_version()}"):
        Store(store.path).schema_version()


def test_edited_migration_is_detected(store):
    store.schema_version()
    with duckdb.connect(str(store.path)) as conn:
        conn.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
    with pytest.raises(StoreError, match="0001_initial.sql was edited"):
        Store(store.path).schema_version()


def test_read_only_open_of_missing_store_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="no store here"):
        Store(tmp_path / "absent.duckdb").query("SELECT 1", read_only=True)


def test_failed_transaction_leaves_nothing(store):
    with pytest.raises(RuntimeError):
        with store.transaction() as conn:
            conn.execute("INSERT INTO runs (run_id) VALUES ('r1')")
            raise RuntimeError("crash mid-write")
    assert store.query("SELECT count(*) AS n FROM runs").to_pylist() == [{"n": 0}]
