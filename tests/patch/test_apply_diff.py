import re
import subprocess
from pathlib import Path

import pytest

from swepipe.patch.apply import apply_diff, diff_workdir, make_diff
from swepipe.patch.diff import apply_to_texts, parse_diff


def read_all(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text() for p in root.rglob("*")
            if p.is_file() and ".git" not in p.parts}


@pytest.mark.parametrize("before,after", [
    ("a\nb\nc\n", "a\nB\nc\n"),
    ("a\nb\nc", "a\nb\nC"),            # no newline at end of file, both sides
    ("a\nb\n", "a\nb"),                # newline removed
    ("a\nb", "a\nb\n"),                # newline added
    ("x\n" * 50, "x\n" * 20 + "y\n" + "x\n" * 30),
])
def test_make_diff_round_trips_through_git_apply(repo: Path, before: str, after: str):
    (repo / "f.txt").write_text(before)
    diff = make_diff({"f.txt": before}, {"f.txt": after})
    assert apply_diff(repo, diff).method == "git_apply"
    assert (repo / "f.txt").read_text() == after


def test_make_diff_creates_and_deletes_files(repo: Path):
    diff = make_diff({"README.md": (repo / "README.md").read_text(), "new/x.py": None},
                     {"README.md": None, "new/x.py": "x = 1\n"})
    assert apply_diff(repo, diff).ok
    assert not (repo / "README.md").exists()
    assert (repo / "new/x.py").read_text() == "x = 1\n"


def test_make_diff_of_equal_contents_is_empty():
    assert make_diff({"a": "x\n"}, {"a": "x\n"}) == ""


def test_make_diff_parses_with_unidiff_and_applies_in_memory():
    before = {"m.py": "def f():\n    return 1\n"}
    diff = make_diff(before, {"m.py": "def f():\n    return 2\n", "n.py": "y = 0"})
    assert [c.change_type for c in parse_diff(diff)] == ["modified", "added"]
    assert apply_to_texts(diff, before) == {"m.py": "def f():\n    return 2\n", "n.py": "y = 0"}


def test_diff_with_wrong_hunk_counts_applies_with_the_lenient_attempt(repo: Path):
    ops = (repo / "calc/ops.py").read_text()
    diff = make_diff({"calc/ops.py": ops}, {"calc/ops.py": ops.replace("a - b", "a + b")})
    miscounted = re.sub(r"@@ -(\d+),\d+ \+(\d+),\d+ @@", r"@@ -\1,9 +\2,9 @@", diff)
    assert miscounted != diff
    result = apply_diff(repo, miscounted)
    assert result.ok and result.method == "git_apply_lenient"
    assert "a + b" in (repo / "calc/ops.py").read_text()


def test_diff_that_does_not_apply_reports_every_attempt_and_changes_nothing(repo: Path):
    before = read_all(repo)
    bad = make_diff({"calc/ops.py": "nothing\nlike\nthis\n"}, {"calc/ops.py": "x\n"})
    result = apply_diff(repo, bad)
    assert not result.ok and result.attempts == ("git_apply", "git_apply_lenient", "patch_fuzz")
    assert "git_apply:" in result.reason and "patch_fuzz:" in result.reason
    assert read_all(repo) == before


def test_apply_outside_a_git_repo_does_not_use_an_enclosing_repo(repo: Path):
    inner = repo / "plain"
    inner.mkdir()
    (inner / "f.txt").write_text("old\n")
    result = apply_diff(inner, make_diff({"f.txt": "old\n"}, {"f.txt": "new\n"}))
    assert result.ok and (inner / "f.txt").read_text() == "new\n"


def test_diff_workdir_includes_untracked_files(repo: Path):
    (repo / "calc/extra.py").write_text("z = 1\n")
    diff = diff_workdir(repo)
    assert "calc/extra.py" in diff and "new file" in diff
    subprocess.run(["git", "reset", "-q"], cwd=repo, check=True)


def test_diff_with_drifted_context_applies_with_patch_fuzz(repo: Path):
    ops = (repo / "calc/ops.py").read_text()
    older = ops.replace("    # seeded bug: subtracts\n", "    # old comment\n")
    diff = make_diff({"calc/ops.py": older}, {"calc/ops.py": older.replace("a - b", "a + b")})
    result = apply_diff(repo, diff)
    assert result.ok and result.method == "patch_fuzz", result
    assert "return a + b" in (repo / "calc/ops.py").read_text()
    assert not list(repo.rglob("*.orig")) and not list(repo.rglob("*.rej"))
