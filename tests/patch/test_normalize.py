from pathlib import Path

from swepipe.patch.apply import make_diff
from swepipe.patch.normalize import (
    content_hash, normalize_patch, normalize_python, normalize_text, normalized_diff,
)

SRC = '''def add(a, b):
    """Return the sum."""
    return a - b
'''


def norm(after: str) -> str:
    return normalized_diff({"m.py": SRC}, {"m.py": after})


def test_comment_docstring_and_blank_line_edits_normalize_to_nothing():
    noisy = 'def add(a, b):\n    """Return a + b, documented."""\n\n    # why\n    return a - b\n'
    assert norm(noisy) == ""


def test_same_fix_with_different_comments_and_formatting_is_equal():
    one = "def add(a, b):\n    # fixed\n    return a + b\n"
    two = 'def add(a, b):\n    """New doc."""\n\n    return (a\n            + b)  # also fixed\n'
    assert norm(one) == norm(two) != ""
    assert content_hash(norm(one)) == content_hash(norm(two))


def test_different_fixes_stay_different():
    assert norm("def add(a, b):\n    return a + b\n") != norm("def add(a, b):\n    return b + a\n")


def test_python_that_does_not_parse_falls_back_to_whitespace():
    assert normalize_python("def f(:\n   x  =  1\n\n") == "def f(:\nx = 1\n"


def test_non_python_files_are_whitespace_normalized():
    assert normalize_text("a   b  \n\n\tc\n") == "a b\nc\n"
    assert normalized_diff({"r.md": "a b\n"}, {"r.md": "a    b\n\n"}) == ""


def test_normalize_patch_reads_the_originals_from_the_repo(repo: Path):
    ops = (repo / "calc/ops.py").read_text()
    fixed = make_diff({"calc/ops.py": ops}, {"calc/ops.py": ops.replace("a - b", "a + b")})
    commented = make_diff({"calc/ops.py": ops}, {"calc/ops.py": ops.replace(
        "    return a - b", "    # the fix\n    return a + b")})
    assert fixed != commented
    assert normalize_patch(fixed, repo) == normalize_patch(commented, repo)
    assert "return a + b" in normalize_patch(fixed, repo)


def test_normalize_patch_of_a_stale_diff_falls_back_to_its_text(repo: Path):
    stale = make_diff({"calc/ops.py": "x = 1\n"}, {"calc/ops.py": "x  =  2\n"})
    assert normalize_patch(stale, repo) == normalize_patch(stale.replace("x  =  2", "x = 2"), repo)
