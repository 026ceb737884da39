"""The store: a DuckDB file, opened for short transactions so that several processes can share it.

DuckDB lets one process hold a file for writing at a time, and read-only openers are refused while
it does. So the store never keeps the file open between operations: each operation opens, runs
one transaction and closes, and an opener that finds the file locked retries with backoff and
jitter up to `lock_timeout_s`. That is how two runs write the same store and how `swepipe sql`
reads while a run is going. Bulk commands that own the store for a while (ingest, import,
migrate) wrap their work in `store.session()` to keep one connection for its duration.

Inside one process every operation takes the same lock, so asyncio tasks and threads never use a
connection concurrently; the `StoreWriter` groups many tasks' commits into one transaction, and
while commits keep coming it keeps the file open (`open_session`) for up to a second at a time,
since opening and closing (with its checkpoint) costs more than a batch of inserts.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_random_exponential

from swepipe.errors import StoreError
from swepipe.store.migrations import apply_migrations, check_migrations

if TYPE_CHECKING:  # polars is imported where a frame is asked for: it costs CLI start-up time
    import polars as pl

Rows = pa.Table | Sequence[Mapping[str, Any]]


def default_store_path() -> Path:
    """`$SWEPIPE_STORE`, else `./swepipe.duckdb`."""
    return Path(os.environ.get("SWEPIPE_STORE", "swepipe.duckdb"))


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc)
    return isinstance(exc, duckdb.IOException) and ("lock" in text.lower())


class Store:
    """A handle on a store file. Cheap to create; holds no connection between operations."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, lock_timeout_s: float = 60.0,
                 create: bool = True) -> None:
        self.path = Path(path) if path is not None else default_store_path()
        self.lock_timeout_s = lock_timeout_s
        self._create = create
        self._lock = threading.RLock()
        self._held: duckdb.DuckDBPyConnection | None = None
        self._depth = 0
        self._checked = False

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # -- connections ---------------------------------------------------------------------------

    def _open(self, read_only: bool) -> duckdb.DuckDBPyConnection:
        if read_only and not self.path.exists():
            raise StoreError(f"{self.path}: no store here (run `swepipe ingest` first)")
        if not read_only and not self._create and not self.path.exists():
            raise StoreError(f"{self.path}: no store here")
        retrying = Retrying(retry=retry_if_exception(_is_lock_error),
                            wait=wait_random_exponential(multiplier=0.005, max=0.5),
                            stop=stop_after_delay(self.lock_timeout_s), reraise=True)
        try:
            conn = retrying(duckdb.connect, str(self.path), read_only=read_only)
        except duckdb.IOException as exc:
            if _is_lock_error(exc):
                raise StoreError(f"{self.path}: still locked by another process after "
                                 f"{self.lock_timeout_s:.0f}s") from exc
            raise StoreError(f"{self.path}: cannot open: {exc}") from exc
        except duckdb.Error as exc:
            raise StoreError(f"{self.path}: cannot open: {exc}") from exc
        if not self._checked:
            self._prepare(conn, read_only)
        return conn

    def _prepare(self, conn: duckdb.DuckDBPyConnection, read_only: bool) -> None:
        if read_only:
            pending = check_migrations(conn, str(self.path))
            if pending:
                conn.close()
                raise StoreError(f"{self.path}: the store needs migration "
                                 f"{pending[0].name}; open it once for writing to upgrade")
        else:
            apply_migrations(conn, str(self.path))
        self._checked = True

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection for one operation (reuses the session's connection inside `session()`)."""
        with self._lock:
            if self._held is not None:
                yield self._held
                return
            conn = self._open(read_only)
            try:
                yield conn
            finally:
                conn.close()

    @contextmanager
    def session(self) -> Iterator[Store]:
        """Keep one read-write connection open across operations (other processes wait).

        Operations inside still take the lock one at a time, so threads of this process can share
        the session; it may be entered in one thread and left in another."""
        self.open_session()
        try:
            yield self
        finally:
            self.close_session()

    def open_session(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._held = self._open(read_only=False)
            self._depth += 1

    def close_session(self) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                held, self._held = self._held, None
                held.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One all-or-nothing transaction: commits on success, rolls back on any exception."""
        with self.connect() as conn:
            conn.execute("BEGIN TRANSACTION")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # -- reading -------------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None, *,
              read_only: bool = False) -> pa.Table:
        """Run one query and return its result as an Arrow table."""
        with self.connect(read_only=read_only) as conn:
            return conn.sql(sql, params=params).to_arrow_table()

    def frame(self, sql: str, params: Sequence[Any] | Mapping[str, Any] | None = None) -> pl.DataFrame:
        import polars as pl

        return pl.from_arrow(self.query(sql, params))

    def schema_version(self) -> int:
        with self.connect() as conn:
            return schema_version_of(conn)



def schema_version_of(conn: duckdb.DuckDBPyConnection) -> int:
    return conn.execute("SELECT max(version) FROM schema_migrations").fetchone()[0]


def list_tables(conn: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
        "AND table_type = 'BASE TABLE' ORDER BY table_name").fetchall()]


@contextmanager
def registered(conn: duckdb.DuckDBPyConnection, **tables: pa.Table) -> Iterator[None]:
    """Arrow tables visible to SQL under the given names while the body runs.

    When the body fails inside a transaction, DuckDB refuses to unregister ("transaction is
    aborted"); that refusal must not replace the body's own error, which names the cause."""
    for name, table in tables.items():
        conn.register(name, table)
    try:
        yield
    except BaseException:
        for name in tables:
            with suppress(duckdb.Error):
                conn.unregister(name)
        raise
    for name in tables:
        conn.unregister(name)


def insert_rows(conn: duckdb.DuckDBPyConnection, table: str, rows: Rows, *,
                ignore_existing: bool = False) -> int:
    """Insert rows (an Arrow table or dicts) by column name; missing columns take defaults.
    Returns how many rows were inserted: with `ignore_existing`, a row whose key is already
    stored (or repeats an earlier row of `rows`) is skipped and not counted."""
    data = rows if isinstance(rows, pa.Table) else pa.Table.from_pylist(list(rows))
    if data.num_rows == 0:
        return 0
    verb = "INSERT OR IGNORE INTO" if ignore_existing else "INSERT INTO"
    name = f"_rows_{threading.get_ident()}"
    with registered(conn, **{name: data}):
        # DuckDB reports the rows it inserted, skipped ones excluded
        return conn.execute(f'{verb} "{table}" BY NAME SELECT * FROM "{name}"').fetchone()[0]
