"""Gold locations: where the gold patch changes the original code.

The files and lines come straight from the parsed gold patch, in SQL
(`migrations/0003_rewards.sql`): `gold_loc_files` (existing files the patch changes; new and
binary files excluded) and `gold_lines` (removed lines and insertion points, in the original
file's numbering).

The enclosing functions and classes need the code, so they are computed here, once per instance,
when a clone of the repository is available: each gold file is read at `base_commit` with
`git show` (no checkout of the whole tree), parsed with tree-sitter (`swepipe.repos.code`), and
every gold line gets its innermost enclosing function or class in `gold_symbols`. An insertion
point after line k belongs to the definition containing both k and k+1: code appended after a
function's last line is module-level (a new helper function), not part of that function.
"""

from __future__ import annotations

import logging
import subprocess
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from swepipe.store.sql_files import load_query
from swepipe.store.store import Store, insert_rows

log = logging.getLogger("swepipe.rewards")
SourceOf = Callable[[str, str, str], "str | None"]
"""(repo, commit, path) -> the file's text at that commit, or None when unavailable."""


def git_source_reader(repos_dir: Path) -> SourceOf:
    """Reads files from local clones named `<owner>__<name>` (bare or not) under `repos_dir`."""

    def read(repo: str, commit: str, path: str) -> str | None:
        name = repo.replace("/", "__")
        for clone in (repos_dir / name, repos_dir / f"{name}.git", repos_dir / repo):
            if clone.is_dir():
                done = subprocess.run(["git", "-C", str(clone), "show", f"{commit}:{path}"],
                                      capture_output=True, check=False)
                if done.returncode == 0:
                    return done.stdout.decode("utf-8", "surrogateescape")
                return None
        return None

    return read


def symbols_for_lines(source: str, path: str,
                      lines: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """For each gold line `(line, kind)` of one file, its innermost enclosing function or class
    (`kind` 'insert_after' looks at lines k and k+1). Lines outside any definition are left out."""
    from swepipe.repos.code import definitions, enclosing, language_of

    language = language_of(path)
    if language is None:
        return []
    defs = [d for d in definitions(source, language) if d.kind in ("function", "class")]
    rows = []
    for line, kind in lines:
        if kind == "insert_after":
            found = enclosing(defs, max(line, 1), line + 1) if line >= 1 else None
        else:
            found = enclosing(defs, line)
        if found is not None:
            rows.append({"path": path, "symbol": found.qualname, "symbol_kind": found.kind,
                         "start_line": found.start_line, "end_line": found.end_line,
                         "line": line, "line_kind": kind})
    return rows


def compute_gold_symbols(store: Store, source_of: SourceOf, *,
                         instance_ids: list[str] | None = None) -> int:
    """Fill `gold_symbols` for instance revisions that have gold lines and no symbols yet.
    Returns the number of rows written. Files that cannot be read are skipped (logged)."""
    todo = store.query(load_query("rewards/gold_lines_without_symbols"),
                       {"ids": instance_ids}).to_pylist()
    by_file: dict[tuple[str, int, str, str, str], list[tuple[int, str]]] = defaultdict(list)
    for r in todo:
        by_file[(r["instance_id"], r["revision"], r["repo"], r["base_commit"], r["path"])].append(
            (r["line"], r["kind"]))
    rows = []
    for (instance_id, revision, repo, commit, path), lines in by_file.items():
        source = source_of(repo, commit, path)
        if source is None:
            log.info("gold symbols: cannot read %s at %s for %s", path, commit[:10], instance_id)
            continue
        for row in symbols_for_lines(source, path, lines):
            rows.append({"instance_id": instance_id, "revision": revision, **row})
    with store.transaction() as conn:
        insert_rows(conn, "gold_symbols", rows, ignore_existing=True)
    return len(rows)
