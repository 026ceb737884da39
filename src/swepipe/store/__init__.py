"""The store: one DuckDB file holding every stage's output, keyed by instance and config hash."""

from swepipe.store.store import Store, default_store_path

__all__ = ["Store", "default_store_path"]
