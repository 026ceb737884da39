"""`swepipe coverage` on a minibench repository: generated tests under coverage.py in the sandbox
fill `test_coverage`, and `changed_line_coverage` gives the hand-computed value."""

from __future__ import annotations

from pathlib import Path

import pytest

from swepipe.cli import main
from swepipe.datasets.ingest import ingest_instances
from swepipe.execute.coverage import changed_paths, measure_coverage
from swepipe.minibench import build_minibench, minibench_root
from swepipe.patch.apply import make_diff
from swepipe.rewards.compute import compute_rewards
from swepipe.select.test_matrix import script_id
from swepipe.types import Patch
from tests.rewards.conftest import Writer, rewards_of

# the minibench `slugs` bug: line 8 of slugs/slugify.py forgets to lowercase
CALLS = 'from slugs.slugify import slugify\nassert slugify("Hello World") == "hello-world"\n'
IMPORTS_ONLY = "import slugs.slugify\n"  # runs the module body, never line 8 (a function body)
CRASHES = 'from slugs.slugify import slugify\nslugify("A")\nraise SystemExit(2)\n'


@pytest.fixture
def bench(tmp_path: Path, store):
    repos = tmp_path / "repos"
    slugs = next(i for i in build_minibench(repos) if i.instance_id == "minibench__slugs-1")
    ingest_instances(store, [slugs], "minibench", "test")
    source = (minibench_root() / "slugs" / "repo" / "slugs" / "slugify.py").read_text()
    other_fix = make_diff({"slugs/slugify.py": source}, {"slugs/slugify.py": source.replace(
        '"-", title)', '"-", title.casefold())')})
    w = Writer(store)
    return store, slugs, w, repos, tmp_path / "cache", other_fix


async def test_coverage_rows_and_changed_line_coverage(bench, sandbox) -> None:
    store, slugs, w, repos, cache, other_fix = bench
    covered = w.config("generate", "test.covered")  # its test calls slugify: line 8 runs
    w.result("generate", covered, slugs, [Patch(diff=slugs.patch, sample_idx=0, test=CALLS)])
    missed = w.config("generate", "test.missed")  # its test only imports the module
    w.result("generate", missed, slugs, [Patch(diff=other_fix, sample_idx=0, test=IMPORTS_ONLY),
                                         Patch(diff="", sample_idx=1, status="empty")])
    report = await measure_coverage(store, sandbox, repos, cache)
    assert (report.candidates, report.tests, report.measured, report.skipped) == (2, 2, 2, 0)

    rows = store.query("SELECT patch_hash, test_kind, test_id, path, lines FROM test_coverage "
                       "ORDER BY lines").to_pylist()
    gold_hash = Patch(diff=slugs.patch).content_hash
    assert [r["path"] for r in rows] == ["slugs/slugify.py"] * 2
    assert {r["test_kind"] for r in rows} == {"generated"}
    miss, hit = rows
    # the import runs lines 3 and 6 (`import re`, `def`; a docstring is no statement to
    # coverage.py) but not the function body, line 8
    assert miss["lines"] == [3, 6] and miss["test_id"] == script_id(IMPORTS_ONLY)
    assert 8 in hit["lines"] and hit["patch_hash"] == gold_hash
    assert hit["test_id"] == script_id(CALLS)

    compute_rewards(store, stage="generate", metrics=["changed_line_coverage"])
    # each candidate adds one line (line 8); the empty candidate has no row (adds no lines)
    assert rewards_of(store, "changed_line_coverage", covered) == {0: 1.0, -1: 1.0}
    assert rewards_of(store, "changed_line_coverage", missed) == {0: 0.0, -1: 0.0}

    again = await measure_coverage(store, sandbox, repos, cache)
    assert (again.tests, again.rows) == (0, 0)  # what is there is not measured again


async def test_reproduction_test_and_a_crashing_script(bench, sandbox) -> None:
    store, slugs, w, repos, cache, _ = bench
    agentless = w.config("generate", "test.agentless")
    w.result("generate", agentless, slugs, [Patch(
        diff=slugs.patch, sample_idx=0, test=CRASHES, meta={"reproduction": {"chosen": 0}})])
    report = await measure_coverage(store, sandbox, repos, cache, config=agentless[:12])
    assert report.measured == 1
    (row,) = store.query("SELECT test_kind, lines FROM test_coverage").to_pylist()
    assert row["test_kind"] == "reproduction" and 8 in row["lines"]  # exit 2 still counts


def test_changed_paths_of_new_and_deleted_files() -> None:
    diff = make_diff({"a.py": "x = 1\n", "gone.py": "y = 1\n"},
                     {"a.py": "x = 2\n", "new.py": "z = 1\n", "gone.py": None})
    assert changed_paths(diff) == ["a.py", "new.py"]


def test_cli(bench, capsys) -> None:
    store, slugs, w, repos, cache, _ = bench
    gen = w.config("generate", "test.cli")
    w.result("generate", gen, slugs, [Patch(diff=slugs.patch, sample_idx=0, test=CALLS)])
    assert main(["--store", str(store.path), "coverage", "--repos-dir", str(repos),
                 "--cache-dir", str(cache), "--config", gen]) == 0
    assert "1 measured" in capsys.readouterr().out
