import os
from pathlib import Path

import pytest

from swepipe.patch.apply import apply_diff, make_diff
from swepipe.patch.safety import diff_paths, git_mode, unsafe_files_reason, unsafe_reason

NEW_LINK = ("diff --git a/l b/l\n{mode}\n--- /dev/null\n+++ b/l\n@@ -0,0 +1 @@\n+{target}\n"
            "\\ No newline at end of file\n")
# Each of these made `git apply` (2.39) create or retarget a link leaving the working copy.
SYMLINK_DIFFS = {
    "mode_with_trailing_space": NEW_LINK.format(mode="new file mode 120000 ", target="/etc"),
    "mode_with_leading_zero": NEW_LINK.format(mode="new file mode 0120000", target="/etc"),
    "mode_after_two_spaces": NEW_LINK.format(mode="new file mode  120000", target="/etc"),
    "mode_after_form_feed": NEW_LINK.format(mode="new file mode \f120000", target="/etc"),
    "mode_with_plus_sign": NEW_LINK.format(mode="new file mode +120000", target="/etc"),
    "mode_with_permission_bits": NEW_LINK.format(mode="new file mode 120777", target="/etc"),
    "target_starting_with_plus_plus": NEW_LINK.format(mode="new file mode 120000",
                                                      target="++/../../../../../../etc"),
    "target_on_a_second_line": NEW_LINK.format(mode="new file mode 120000",
                                               target="a\n+/../../../../../../etc")
    .replace("@@ -0,0 +1 @@", "@@ -0,0 +1,2 @@"),
    "existing_link_retargeted": ("diff --git a/inlink b/inlink\n--- a/inlink\n+++ b/inlink\n"
                                 "@@ -1 +1 @@\n-README.md\n\\ No newline at end of file\n"
                                 "+/etc\n\\ No newline at end of file\n"),
    "relative_link_copied_up": ("diff --git a/calc/up b/up\nsimilarity index 100%\n"
                                "copy from calc/up\ncopy to up\n"),
    "relative_link_renamed_up": ("diff --git a/calc/up b/up\nsimilarity index 100%\n"
                                 "rename from calc/up\nrename to up\n"),
}
# Accepted before and after: the harness below must apply these, or it proves nothing.
PLAIN_DIFFS = {
    "new_file": NEW_LINK.format(mode="new file mode 100644", target="/etc"),
    "new_executable": NEW_LINK.format(mode="new file mode 100755", target="text"),
}


@pytest.fixture
def linked_repo(repo: Path) -> Path:
    """The repo with two in-repo links: `inlink -> README.md`, `calc/up -> ../README.md`."""
    os.symlink("README.md", repo / "inlink")
    os.symlink("../README.md", repo / "calc" / "up")
    return repo


def _links_leaving(root: Path) -> list[str]:
    root = root.resolve()
    return [f"{p} -> {os.readlink(p)}" for p in root.rglob("*") if p.is_symlink()
            and ".git" not in p.relative_to(root).parts
            and root not in (p.parent.resolve() / os.readlink(p)).resolve().parents]


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


@pytest.mark.parametrize("name", SYMLINK_DIFFS)
def test_every_symlink_variant_is_rejected(linked_repo: Path, name: str):
    reason = unsafe_reason(SYMLINK_DIFFS[name], linked_repo)
    assert reason and "symlink" in reason


@pytest.mark.parametrize("name", [*SYMLINK_DIFFS, *PLAIN_DIFFS])
def test_git_apply_of_an_accepted_diff_creates_no_link_leaving_the_repo(linked_repo: Path,
                                                                        name: str):
    diff = {**SYMLINK_DIFFS, **PLAIN_DIFFS}[name]
    if unsafe_reason(diff, linked_repo) is None:
        assert apply_diff(linked_repo, diff).ok, name
    assert _links_leaving(linked_repo) == []


@pytest.mark.parametrize("name", PLAIN_DIFFS)
def test_plain_new_files_are_accepted_and_applied(linked_repo: Path, name: str):
    assert unsafe_reason(PLAIN_DIFFS[name], linked_repo) is None
    assert apply_diff(linked_repo, PLAIN_DIFFS[name]).ok
    assert (linked_repo / "l").is_file() and not (linked_repo / "l").is_symlink()


def test_git_mode_reads_like_strtoul():
    assert git_mode("120000 ") == git_mode("0120000") == git_mode("\t120000x") == 0o120000
    assert git_mode("-1") == 0xFFFFFFFF and git_mode("99") is None and git_mode("") is None


def test_lines_are_split_on_newline_only():
    # U+2028 inside a path is part of the line for git, so `+++ b/x` is not a header on its own
    assert diff_paths("--- a/x\u2028+++ b/y\n+++ b/z\n") == ["x\u2028+++ b/y", "z"]


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
