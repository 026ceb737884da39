"""Reply parsing, prompt files and the text Agentless shows: the pieces the LLM localizers share."""

from __future__ import annotations

import pytest

from swepipe.errors import InputError
from swepipe.localize.agentless_replies import parse_file_list, parse_location_list
from swepipe.localize.agentless_text import (drop_folders, match_path, numbered_excerpt,
                                             render_structure)
from swepipe.localize.codemonkeys_replies import merge_rankings, parse_ranking, parse_relevance
from swepipe.localize.prompting import code_blocks, load_prompt, prompt, render
from swepipe.registry import build

LISTING = ["pkg/__init__.py", "pkg/core/models.py", "pkg/core/query.py", "pkg/util.py",
           "setup.py"]


def test_structure_is_an_indented_folder_tree():
    assert render_structure(LISTING) == (
        "pkg/\n    __init__.py\n    core/\n        models.py\n        query.py\n    util.py\n"
        "setup.py")


def test_paths_are_matched_through_markdown_prefixes_and_unique_suffixes():
    assert match_path("1. `pkg/core/query.py`", LISTING) == "pkg/core/query.py"
    assert match_path("./pkg/util.py", LISTING) == "pkg/util.py"
    assert match_path("myrepo/pkg/util.py", LISTING) == "pkg/util.py"
    assert match_path("core/models.py", LISTING) == "pkg/core/models.py"
    assert match_path("models.py:", LISTING) == "pkg/core/models.py"
    assert match_path("__init__.py", LISTING) == "pkg/__init__.py"
    assert match_path("pkg/nothere.py", LISTING) is None


def test_file_list_keeps_order_drops_unknown_paths_and_caps_the_count():
    reply = "Sure!\n```\npkg/core/query.py\npkg/ghost.py\npkg/core/query.py\n- pkg/util.py\n" \
            "setup.py\n```"
    parsed = parse_file_list(reply, LISTING, limit=2)
    assert parsed.files == ["pkg/core/query.py", "pkg/util.py"]
    assert any("pkg/ghost.py" in p for p in parsed.problems)
    assert any("beyond the first 2" in p for p in parsed.problems)
    assert not parse_file_list("I have no idea.", LISTING, 5).usable


def test_locations_before_any_header_belong_to_the_only_file_shown():
    src = "def f():\n    return 1\n\n\ndef g():\n    return 2\n"
    parsed = parse_location_list("**function:** `g()`\nline: 2-3\nline: 99", {"a.py": src})
    assert [(p.file_path, p.kind, p.symbol, p.start_line, p.end_line, p.resolved)
            for p in parsed.pointers] == [("a.py", "function", "g", 5, 6, True),
                                          ("a.py", "lines", None, 2, 3, True),
                                          ("a.py", "lines", None, None, None, False)]
    assert parsed.usable and any("outside the file" in p for p in parsed.problems)
    two = parse_location_list("function: g", {"a.py": src, "b.py": src})
    assert two.pointers == [] and "no file header" in two.problems[0] and not two.usable


def test_irrelevant_folders_drop_their_files_and_unknown_folders_are_reported():
    kept, used, unknown = drop_folders(LISTING, ["`pkg/core/`", "docs/", ""])
    assert kept == ["pkg/__init__.py", "pkg/util.py", "setup.py"]
    assert used == ["pkg/core"] and unknown == ["docs"]


def test_numbered_excerpt_shows_intervals_with_gaps_marked():
    lines = [f"l{i}" for i in range(1, 11)]
    assert numbered_excerpt(lines, [(2, 3), (3, 4), (8, 20)]) == (
        "...\n2|l2\n3|l3\n4|l4\n...\n8|l8\n9|l9\n10|l10")


def test_relevance_verdicts_tolerate_markdown_and_missing_verdicts_are_parse_errors():
    d = parse_relevance("a.py", "**RELEVANCE**: Relevant\n**SUMMARY:** the parser.\nMore.")
    assert (d.status, d.summary) == ("relevant", "the parser.\nMore.")
    assert parse_relevance("a.py", "RELEVANCE: Not Relevant").status == "not_relevant"
    assert parse_relevance("a.py", "relevance: not_relevant").status == "not_relevant"
    assert parse_relevance("a.py", "RELEVANCE: Relevant").summary == ""
    assert parse_relevance("a.py", "I think it matters.").status == "parse_error"


def test_rankings_read_json_or_lines_and_drop_unknown_paths():
    files = ["a.py", "b.py", "c.py"]
    assert parse_ranking('```json\n["b.py", "x.py", "a.py", "b.py"]\n```', files)[0] == [
        "b.py", "a.py"]
    ranking, problems = parse_ranking("1. c.py\n2. a.py", files)
    assert ranking == ["c.py", "a.py"] and "not a JSON list" in problems[0]
    assert parse_ranking("nothing useful", files)[0] == []


def test_rankings_merge_by_average_relative_rank_with_absent_files_last():
    merged = merge_rankings([["a", "b", "c"], ["b", "a"], []], ["a", "b", "c", "d"])
    # a: (0 + 1/2 + 1) / 3, b: (1/3 + 0 + 1) / 3, c: (2/3 + 1 + 1) / 3, d: 1
    assert [f for f, _ in merged] == ["b", "a", "c", "d"]
    assert dict(merged)["b"] == pytest.approx(4 / 9) and dict(merged)["d"] == 1.0
    assert merge_rankings([], ["z", "y"]) == [("y", 1.0), ("z", 1.0)]


def test_prompt_values_with_braces_are_inserted_verbatim():
    text = render("Issue: {problem_statement}\n{structure}", problem_statement="f({x}) {structure}",
                  structure="tree")
    assert text == "Issue: f({x}) {structure}\ntree"
    with pytest.raises(ValueError):
        render("no placeholders", extra="x")
    assert "{problem_statement}" in load_prompt("agentless_files", "1")
    assert "Rank these files" in prompt("codemonkeys_ranking", "1", problem_statement="p",
                                        files="f", budget="10")


def test_unknown_prompt_version_is_refused_when_the_config_is_loaded():
    with pytest.raises(InputError, match="prompt_version"):
        load_prompt("agentless_files", "99")
    for component in ("agentless", "codemonkeys", "codemonkeys_retrieval_first"):
        with pytest.raises(InputError, match="no prompt file .*_v99.txt"):
            build("localize", {"component": component, "prompt_version": "99"})


def test_code_blocks_keep_the_text_of_an_unterminated_fence():
    assert code_blocks("a\n```python\nx = 1\n```\nb\n```\ny\n```") == "x = 1\n\ny\n"
    assert code_blocks("```\nline: 3\nline: 4") == "line: 3\nline: 4"
    assert code_blocks("plain") == "plain"
