"""The store: one DuckDB file holding every stage's output, keyed by instance and config hash."""

import lazy_loader

# lazy: `swepipe --help` imports the command modules of this package and must not pay for duckdb
__getattr__, __dir__, __all__ = lazy_loader.attach(
    __name__, submod_attrs={"store": ["Store", "default_store_path"]})
