"""Symbol locations get line spans from a checkout; the CLI commands run end to end."""

from __future__ import annotations

from pathlib import Path

import pytest

from swepipe.cli import main
from swepipe.migrate import migrate_agentless
from swepipe.migrate.resolve import resolve_store
from swepipe.store import Store

A_PY = "class A:\n    def run(self):\n        return 1\n\n\ndef helper():\n    pass\n"
B_PY = "X = 1\n\n\ndef f():\n    return X\n"


@pytest.fixture
def repos(tmp_path: Path) -> Path:
    """Plain checkouts, one folder per instance."""
    for iid in ("org__pkg-1", "org__pkg-2"):
        (tmp_path / "repos" / iid / "pkg").mkdir(parents=True)
        (tmp_path / "repos" / iid / "pkg" / "a.py").write_text(A_PY)
        (tmp_path / "repos" / iid / "pkg" / "b.py").write_text(B_PY)
    return tmp_path / "repos"


def _symbols(store: Store) -> list[tuple]:
    return [(r["file_path"], r["symbol"], r["start_line"], r["end_line"], r["resolved"])
            for r in store.query(
                "SELECT l.* FROM localizations l JOIN configs c USING (config_hash) WHERE "
                "c.component = 'agentless.related_elements' AND instance_id = 'org__pkg-1' "
                "ORDER BY pointer_idx").to_pylist()]


def test_resolve_fills_spans_of_symbols_migrated_without_checkout(store: Store, v10_run: Path,
                                                                  repos: Path) -> None:
    migrate_agentless(store, v10_run)
    assert all(not r[4] and r[2] is None for r in _symbols(store))
    report = resolve_store(store, repos)
    assert _symbols(store) == [("pkg/a.py", "A", 1, 3, True), ("pkg/b.py", "f", 4, 5, True),
                               ("pkg/b.py", "X", 1, 1, True)]
    assert report.without_checkout == 0 and report.resolved == report.pointers


def test_import_with_repos_dir_resolves_at_once(store: Store, v10_run: Path,
                                                repos: Path) -> None:
    migrate_agentless(store, v10_run / "related_level", repos_dir=repos)
    assert _symbols(store)[0] == ("pkg/a.py", "A", 1, 3, True)


def test_resolve_keeps_pointers_without_checkout_unresolved(store: Store, v10_run: Path,
                                                            tmp_path: Path) -> None:
    migrate_agentless(store, v10_run / "related_level")
    (tmp_path / "empty").mkdir()
    report = resolve_store(store, tmp_path / "empty")
    assert report.resolved == 0 and report.without_checkout == 2
    assert all(not r[4] for r in _symbols(store))


def test_cli_migrate_commands(tmp_path: Path, v10_run: Path, codemonkeys_store: Path,
                              repos: Path, capsys: pytest.CaptureFixture) -> None:
    db = str(tmp_path / "cli.duckdb")
    assert main(["--store", db, "migrate", "agentless", str(v10_run), "--dry-run"]) == 0
    assert "would import" in capsys.readouterr().out and not Path(db).exists()
    assert main(["--store", db, "migrate", "agentless", str(v10_run)]) == 0
    assert main(["--store", db, "migrate", "codemonkeys", str(codemonkeys_store),
                 "--run-name", "cm-test"]) == 0
    assert main(["--store", db, "migrate", "resolve", "--repos-dir", str(repos)]) == 0
    out = capsys.readouterr().out
    assert "imported" in out and "resolved" in out
    assert main(["--store", db, "migrate", "agentless", str(v10_run)]) == 0
    assert "unchanged (already imported)" in capsys.readouterr().out
