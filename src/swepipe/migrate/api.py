"""The library entry points behind `swepipe migrate ...` (the CLI only parses arguments)."""

from __future__ import annotations

from pathlib import Path

from swepipe.migrate.agentless import agentless_sources
from swepipe.migrate.importer import ImportOptions, ImportReport, run_import
from swepipe.migrate.legacy_configs import LegacyConfigs
from swepipe.migrate.plan import ReadContext
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
