"""The library entry points behind `swepipe migrate ...` (the CLI only parses arguments)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from swepipe.errors import InputError
from swepipe.migrate.agentless import agentless_sources
from swepipe.migrate.importer import ImportOptions, ImportReport, run_import
from swepipe.migrate.legacy_configs import LegacyConfigs
from swepipe.migrate.plan import ReadContext
from swepipe.store.sql_files import load_query
from swepipe.store.store import Store


def _context(store: Store, options: ImportOptions, repos_dir: Path | None) -> ReadContext:
    ctx = ReadContext(configs=LegacyConfigs())
    if repos_dir is not None:
        from swepipe.migrate.resolve import CheckoutResolver

        ctx.resolve = CheckoutResolver.for_store(store, Path(repos_dir), options.dataset,
                                                 read_only=options.dry_run)
    return ctx


def migrate_agentless(store: Store, path: str | Path, options: ImportOptions | None = None,
                      repos_dir: str | Path | None = None) -> ImportReport:
    """Import an Agentless results folder (or one of its files)."""
    options = options or ImportOptions()
    sources = agentless_sources(Path(path))
    ctx = _context(store, options, Path(repos_dir) if repos_dir else None)
    return run_import(store, sources, ctx, options)


def migrate_codemonkeys(store: Store, path: str | Path, options: ImportOptions | None = None,
                        run_name: str | None = None) -> ImportReport:
    """Import a CodeMonkeys trajectory store (`<store>/<instance_id>/...`) or one instance."""
    from swepipe.migrate.codemonkeys import codemonkeys_sources

    options = options or ImportOptions()
    sources = codemonkeys_sources(Path(path), run_name)
    return run_import(store, sources, ReadContext(configs=LegacyConfigs()), options)


def level_file_recall(store: Store, path: str | Path) -> list[dict[str, Any]]:
    """Per instance, `file_recall` of each level migrated from one localization file (file,
    related, edit; None where undefined). Needs `swepipe rewards --stage localize` first."""
    source = str(Path(path).resolve())
    known = store.path.exists() and store.query(
        "SELECT count(*) AS n FROM legacy_imports WHERE source_path = ?", [source],
        read_only=True).to_pylist()[0]["n"]
    if not known:
        raise InputError(f"not imported into {store.path} (run `swepipe migrate agentless` "
                         "on it first)", source=str(path))
    return store.query(load_query("migrate/level_file_recall"), {"source": source},
                       read_only=True).to_pylist()
