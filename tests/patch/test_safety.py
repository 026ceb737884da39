import os
from pathlib import Path

from swepipe.patch.apply import make_diff
from swepipe.patch.safety import diff_paths, unsafe_files_reason, unsafe_reason


def test_ordinary_diff_is_safe(repo: Path):
    assert unsafe_reason(make_diff({"calc/ops.py": "a\n"}, {"calc/ops.py": "b\n"}), repo) is None


def test_dotdot_path_is_rejected(repo: Path):
    diff = make_diff({}, {"../evil.py": "x\n"})
    assert "'..'" in unsafe_reason(diff, repo)


def test_absolute_path_is_rejected(repo: Path):
    diff = "--- /etc/passwd\n+++ /etc/passwd\n@@ -1 +1 @@\n-root\n+owned\n"
    assert "absolute" in unsafe_reason(diff, repo)


def test_path_through_dot_git_is_rejected(repo: Path):
    assert ".git" in unsafe_reason(make_diff({}, {".git/hooks/pre-commit": "x\n"}), repo)


def test_path_through_a_symlink_leading_out_is_rejected(repo: Path, tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(outside, repo / "link")
    reason = unsafe_reason(make_diff({}, {"link/x.py": "x\n"}), repo)
    assert reason and "symlink" in reason


def test_symlink_inside_the_repo_is_allowed(repo: Path):
    os.symlink("calc", repo / "alias")
    assert unsafe_reason(make_diff({}, {"alias/x.py": "x\n"}), repo) is None


def test_diff_creating_a_symlink_out_is_rejected(repo: Path):
    diff = ("diff --git a/l b/l\nnew file mode 120000\n--- /dev/null\n+++ b/l\n"
            "@@ -0,0 +1 @@\n+/etc\n\\ No newline at end of file\n")
    assert "symlink" in unsafe_reason(diff, repo)


def test_rename_target_and_index_headers_are_checked(repo: Path):
    rename = "diff --git a/a.py b/a.py\nrename from a.py\nrename to ../../a.py\n"
    assert unsafe_reason(rename, repo)
    assert "../x" in diff_paths("Index: ../x\n--- a/y\n+++ b/y\n")


def test_quoted_paths_are_unquoted(repo: Path):
    assert diff_paths('diff --git "a/caf\\303\\251.py" "b/caf\\303\\251.py"\n') == ["café.py"]


def test_body_lines_that_look_like_headers_are_not_paths():
    diff = "--- a/x.sql\n+++ b/x.sql\n@@ -1,2 +1,1 @@\n--- comment\n x\n"
    assert diff_paths(diff) == ["x.sql"]


def test_unsafe_extra_file_is_rejected(repo: Path):
    assert unsafe_files_reason(["ok.py", "/tmp/x"], repo)
    assert unsafe_files_reason(["ok.py", "sub/ok.py"], repo) is None
