from pathlib import Path

from swepipe.patch.apply import apply_diff
from swepipe.patch.search_replace import apply_block, EditBlock, parse_edit_blocks, \
    patch_from_output


def block(path: str, search: str, replace: str) -> str:
    return (f"```python\n### {path}\n<<<<<<< SEARCH\n{search}\n=======\n{replace}\n"
            ">>>>>>> REPLACE\n```\n")


def test_parse_finds_path_search_and_replace():
    blocks, errors = parse_edit_blocks("Fix:\n" + block("a/b.py", "x = 1", "x = 2"))
    assert errors == []
    assert [(b.path, b.search, b.replace) for b in blocks] == [("a/b.py", "x = 1", "x = 2")]


def test_exact_block_becomes_a_patch_that_git_applies(repo: Path):
    out = block("calc/ops.py", "    return a - b", "    return a + b")
    patch = patch_from_output(out, repo)
    assert patch.status == "ok" and patch.files == ["calc/ops.py"]
    assert patch.meta["blocks"][0]["how"] == "exact"
    assert apply_diff(repo, patch.diff).ok
    assert "return a + b" in (repo / "calc/ops.py").read_text()


def test_block_with_wrong_indentation_applies_reindented(repo: Path):
    out = block("calc/ops.py", "def add(a, b):\n  \"\"\"Return the sum.\"\"\"\n"
                "  # seeded bug: subtracts\n  return a - b",
                "def add(a, b):\n  \"\"\"Return the sum.\"\"\"\n  return a + b")
    patch = patch_from_output(out, repo)
    assert patch.status == "ok", patch.reason
    assert patch.meta["blocks"][0]["how"] == "whitespace"
    assert "+    return a + b" in patch.diff


def test_search_inside_a_line_applies_when_unique():
    new, res = apply_block("x = compute(a, b)\n", EditBlock("f.py", "compute(a, b)",
                                                           "compute(b, a)", 0))
    assert res.ok and res.how == "substring" and new == "x = compute(b, a)\n"


def test_missing_file_is_reported_per_block(repo: Path):
    patch = patch_from_output(block("calc/nope.py", "x", "y"), repo)
    assert patch.status == "apply_failed"
    assert "calc/nope.py does not exist" in patch.reason


def test_search_text_not_found_is_reported(repo: Path):
    patch = patch_from_output(block("calc/ops.py", "return a / b", "return a + b"), repo)
    assert patch.status == "apply_failed" and "not found" in patch.reason


def test_ambiguous_search_is_reported_not_guessed(repo: Path):
    (repo / "calc/dup.py").write_text("x = 1\ny = 2\nx = 1\n")
    patch = patch_from_output(block("calc/dup.py", "x = 1", "x = 3"), repo)
    assert patch.status == "apply_failed" and "ambiguous" in patch.reason


def test_one_failing_block_names_its_index(repo: Path):
    out = block("calc/ops.py", "    return a - b", "    return a + b") + \
        block("calc/ops.py", "nothing like this", "z")
    patch = patch_from_output(out, repo)
    assert patch.status == "apply_failed" and patch.reason.startswith("block 1 (calc/ops.py)")
    assert [b["ok"] for b in patch.meta["blocks"]] == [True, False]


def test_empty_search_creates_a_new_file(repo: Path):
    patch = patch_from_output(block("calc/new.py", "", "VALUE = 1"), repo)
    assert patch.status == "ok" and "new file mode" in patch.diff
    assert apply_diff(repo, patch.diff).ok
    assert (repo / "calc/new.py").read_text() == "VALUE = 1\n"


def test_output_without_blocks_is_empty_not_an_error(repo: Path):
    patch = patch_from_output("I think the bug is in add().", repo)
    assert patch.status == "empty" and patch.diff == ""


def test_malformed_block_is_unparseable(repo: Path):
    patch = patch_from_output("### calc/ops.py\n<<<<<<< SEARCH\nreturn a - b\n", repo)
    assert patch.status == "unparseable" and "REPLACE" in patch.reason


def test_block_without_path_is_unparseable(repo: Path):
    patch = patch_from_output("<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n", repo)
    assert patch.status == "unparseable" and "path" in patch.reason


def test_edit_that_changes_nothing_is_empty(repo: Path):
    patch = patch_from_output(block("calc/ops.py", "    return a * b", "    return a * b"), repo)
    assert patch.status == "empty"


def test_edit_leaving_a_syntax_error_is_apply_failed(repo: Path):
    patch = patch_from_output(block("calc/ops.py", "    return a - b", "    return (a +"), repo)
    assert patch.status == "apply_failed" and "does not parse" in patch.reason


def test_block_path_escaping_the_repo_is_refused(repo: Path):
    patch = patch_from_output(block("../outside.py", "", "x = 1"), repo)
    assert patch.status == "apply_failed" and "'..'" in patch.reason
    assert not (repo.parent / "outside.py").exists()


def test_none_output_never_raises(repo: Path):
    assert patch_from_output(None, repo).status == "empty"  # type: ignore[arg-type]
