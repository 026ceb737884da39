"""The safe import loop shared by every legacy format: checksum, validate, quarantine, commit.

Rules (docs/legacy-migration.md):
- A source (a file; for CodeMonkeys an instance's stage file or folder) whose (path, checksum)
  is in `legacy_imports` is skipped: re-importing an unchanged file is a no-op. Unless an older
  import layout wrote it (reshape.py): then it is read again and what the old layout gave it
  is replaced in the same transaction.
- Every source is read and validated before anything is written. Bad lines (truncated or
  invalid JSON, a missing or mistyped field, a repeated instance id, an unknown format) refuse
  the whole import with every bad line listed as `file:line: reason`, unless `skip_bad`: then
  they go to `legacy_quarantine` and the good lines are imported.
- Everything one call imports commits in one transaction with its `legacy_imports` rows, so a
  crash leaves a file either fully imported and recorded, or not at all (and one insert per
  table keeps a large import fast). Results of one (stage, config, instance) spread over
  several files (the sample files of a repair folder) are merged before writing.
- Stage results go through `write_units`, so attempts are numbered as in a live run. A result
  for a key that already has a done attempt (on the same instance revision) is merged with it by
  sample; an unchanged merge is dropped, a changed one becomes the next attempt.
- `dry_run` reads and validates everything, opens the store read-only (if it exists at all) to
  tell what is new, and writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from swepipe.datasets.ingest import require_dataset
from swepipe.errors import InputError
from swepipe.hashing import file_checksum
from swepipe.migrate.merge import merge_results, merge_with_store
from swepipe.migrate.plan import BadLine, FilePlan, ReadContext
from swepipe.migrate.reshape import LAYOUT, find_superseded, needs_reshape, recorded, retire
from swepipe.store.configs import register_configs
from swepipe.store.sql_files import load_query
from swepipe.store.store import Store, insert_rows
from swepipe.store.writer import RowsCommit, StageCommit, write_units

MAX_LISTED = 200
"""Bad lines listed in one error message (all of them are counted)."""


@dataclass
class Source:
    path: Path
    build: Callable[[str, ReadContext], FilePlan]
    """(checksum, context) -> plan."""

    @property
    def key(self) -> str:
        return str(self.path.resolve())


@dataclass
class ImportOptions:
    dry_run: bool = False
    skip_bad: bool = False
    dataset: str | None = None
    """Take instance revisions from this dataset (default: each instance's newest revision)."""


@dataclass
class ImportReport:
    plans: list[FilePlan] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    dropped: int = 0
    """Stage results identical to what the store already had."""
    dry_run: bool = False

    @property
    def quarantined(self) -> int:
        return sum(len(p.bad) for p in self.plans)

    def lines(self) -> list[str]:
        verb = "would import" if self.dry_run else "imported"
        out = []
        for p in self.plans:
            counts = {k: v for k, v in p.counts().items() if k != "bad_lines"}
            out.append(f"{verb} {p.source} [{p.format}]: {_counts_text(counts)}")
            for c in p.config_counts():
                what = f"{c['level']} level ->" if c["level"] else "config"
                rows = {k: v for k, v in c.items()
                        if k not in ("config_hash", "component", "level")}
                out.append(f"  {what} {c['component']} {(c['config_hash'] or '-')[:12]}: "
                           f"{_counts_text(rows) or 'nothing'}")
            for old in p.superseded:
                out.append(f"  replaces {old['component']} {old['config_hash'][:12]} (an "
                           f"earlier import layout of this file): stage_runs={old['stage_runs']}")
            out += [f"  note: {n}" for n in p.notes]
        out += [f"unchanged (already imported) {s}" for s in self.unchanged]
        if self.dropped:
            out.append(f"{self.dropped} stage results were already in the store unchanged")
        if self.quarantined:
            where = "would be quarantined" if self.dry_run else "quarantined in legacy_quarantine"
            out.append(f"{self.quarantined} bad lines {where}")
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _counts_text(counts: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))


def _read_state(store: Store, dry_run: bool, sql: str, params: Any = None) -> list[tuple]:
    """Query the store; in a dry run read-only and without creating or migrating it. A store
    that does not exist yet holds nothing (and is not created just to be asked)."""
    if not store.path.exists():
        return []
    if not dry_run:
        with store.connect() as conn:
            return conn.execute(sql, params).fetchall()
    conn = duckdb.connect(str(store.path), read_only=True)
    try:
        return conn.execute(sql, params).fetchall()
    except duckdb.CatalogException:
        return []  # a store older than the table asked for
    finally:
        conn.close()


def instance_hashes(store: Store, dataset: str | None, dry_run: bool = False) -> dict[str, str]:
    """instance_id -> content_hash of its revision in `dataset` (else of its newest revision)."""
    if dataset:
        rows = _read_state(store, dry_run,
                           "SELECT d.instance_id, i.content_hash FROM dataset_instances d "
                           "JOIN instances i USING (instance_id, revision) WHERE d.dataset = ?",
                           [dataset])
        if not rows:
            # asked through `_read_state`, which neither creates nor migrates the store
            require_dataset([r[0] for r in _read_state(store, dry_run,
                                                       load_query("datasets/names"))],
                            dataset, field="--dataset",
                            hint=f"run `swepipe ingest FILE --dataset {dataset}` on "
                                 f"{store.path} first")
        return dict(rows)
    return dict(_read_state(store, dry_run, "SELECT instance_id, arg_max(content_hash, revision)"
                                            " FROM instances GROUP BY instance_id"))


def run_import(store: Store, sources: list[Source], ctx: ReadContext,
               options: ImportOptions) -> ImportReport:
    # one connection for the whole import when the store exists (a new store is created only
    # once everything validated, so a refused import leaves no file behind)
    hold = not options.dry_run and store.path.exists()
    with store.session() if hold else nullcontext():
        return _run_import(store, sources, ctx, options)


def _run_import(store: Store, sources: list[Source], ctx: ReadContext,
                options: ImportOptions) -> ImportReport:
    report = ImportReport(dry_run=options.dry_run)
    sums = {s.key: file_checksum(s.path) for s in sources}

    def read(sql: str, params: dict[str, Any]) -> list[tuple]:
        return _read_state(store, options.dry_run, sql, params)

    done, reshape = set(), set()
    for path, checksum, fmt, layout in recorded(read, list(sums)):
        if needs_reshape(fmt, layout):
            reshape.add(path)
        else:
            done.add((path, checksum))
    todo = []
    for s in sources:
        if (s.key, sums[s.key]) in done:
            report.unchanged.append(str(s.path))
        else:
            todo.append(s)
    report.plans = [s.build(sums[s.key], ctx) for s in todo]
    bad = [b for p in report.plans for b in p.bad]
    unknown = [b for p in report.plans if p.unknown_format for b in p.bad]
    if unknown and options.skip_bad:
        raise InputError(_refusal(unknown, "files of an unknown format are refused whole, "
                                           "also with --skip-bad"))
    if bad and not options.skip_bad:
        raise InputError(_refusal(bad))
    created = {h for p in report.plans for h in p.configs}
    for s, p in zip(todo, report.plans):
        if s.key in reshape:
            find_superseded(read, p, created)
            p.notes.append("imported before by an older import layout; read again (what is "
                           "already in the store unchanged is kept, not duplicated)")
    if options.dry_run:
        return report
    hashes = instance_hashes(store, options.dataset)
    with store.session():
        report.dropped += _commit(store, list(zip(todo, report.plans)), hashes,
                                  [(s.key, sums[s.key]) for s in todo if s.key in reshape])
    return report


def _refusal(bad: list[BadLine],
             hint: str = "fix them, or pass --skip-bad to quarantine them") -> str:
    files = len({b.source for b in bad})
    bad = sorted(bad, key=lambda b: (b.source, b.line or 0))
    listed = "\n".join(f"  {b}" for b in bad[:MAX_LISTED])
    more = f"\n  ... and {len(bad) - MAX_LISTED} more" if len(bad) > MAX_LISTED else ""
    return (f"refusing to import: {len(bad)} bad lines in {files} file(s); nothing was written "
            f"({hint})\n{listed}{more}")


def _dedupe(rows: list[dict[str, Any]], key: tuple[str, ...]) -> list[dict[str, Any]]:
    seen: dict[tuple, dict[str, Any]] = {}
    for r in rows:
        seen.setdefault(tuple(r.get(k) for k in key), r)
    return list(seen.values())


_PLAIN_KEYS = {"sequences": ("sequence_id",),
               "test_runs": ("instance_id", "patch_hash", "test_kind", "test_id")}


def _commit(store: Store, members: list[tuple[Source, FilePlan]], hashes: dict[str, str],
            replaced: list[tuple[str, str]]) -> int:
    """Write every plan in one transaction: one insert per table for the whole import, after
    retiring what an older layout wrote for the `replaced` (path, checksum) sources."""
    plans = [p for _, p in members]
    configs = {h: row for p in plans for h, row in p.configs.items()}
    results = merge_results([r for p in plans for r in p.results])
    tables: dict[str, list[dict[str, Any]]] = {}
    contents: dict[str, str] = {}
    for p in plans:
        for name, rows in p.tables.items():
            tables.setdefault(name, []).extend(rows)
        contents.update(p.contents)
    plain: dict[str, Any] = {n: _dedupe(rows, _PLAIN_KEYS[n]) for n, rows in tables.items()}
    if contents:
        plain["contents"] = pa.table({"content_hash": list(contents),
                                      "text": list(contents.values())})
    with store.transaction() as conn:
        retire(conn, plans, replaced)
        register_configs(conn, list(configs.values()))
        commits, dropped = merge_with_store(conn, results, hashes)
        units: list[StageCommit | RowsCommit] = list(commits)
        if plain:
            units.append(RowsCommit(plain, ignore_existing=frozenset(plain)))
        write_units(conn, units)
        quarantine = [{"source_path": str(Path(b.source).resolve()), "checksum": p.checksum,
                       "line": b.line, "reason": b.reason, "raw": b.raw}
                      for _, p in members for b in p.bad]
        if quarantine:
            insert_rows(conn, "legacy_quarantine", quarantine)
        insert_rows(conn, "legacy_imports", [
            {"source_path": s.key, "checksum": p.checksum, "format": p.format,
             "rows": json.dumps({**p.counts(), "layout": LAYOUT, "configs": p.config_counts()},
                                sort_keys=True)} for s, p in members],
            ignore_existing=True)
    return dropped
