import json
from pathlib import Path

import pytest

from swepipe.repos.locations import (
    AGENTLESS_CONTEXT, merge_spans, parse_locations, resolve_in_repo, resolve_pointer, symbol_at,
    to_grammar,
)
from swepipe.types import CodePointer
from tests.repos.gitrepo import PY_MODELS, write_files

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "legacy"


def test_parses_each_kind_of_the_grammar():
    text = "class: Cart\nfunction: empty_cart\nfunction: Cart.add_item\nvariable: TAX_RATE\nline: 19"
    got = [(p.kind, p.symbol, p.start_line) for p in parse_locations(text, "shop/models.py")]
    assert got == [("class", "Cart", None), ("function", "empty_cart", None),
                   ("function", "Cart.add_item", None), ("variable", "TAX_RATE", None),
                   ("lines", None, 19)]


def test_junk_model_output_keeps_only_locations_and_follows_file_headers():
    text = """Sure! After reading the issue, here is what I found.

```text
### shop/models.py
- **function**: `Cart.add_item()`  # validates quantity
method: total_price
The class: NotALocation inside prose is ignored
File: web/router.js
function: web/router.js::Router.matchPath
lines: 3-5, 9
line: many
```
Thanks."""
    got = [(p.file_path, p.kind, p.symbol, p.start_line, p.end_line)
           for p in parse_locations(text)]
    assert got == [("shop/models.py", "function", "Cart.add_item", None, None),
                   ("shop/models.py", "function", "total_price", None, None),
                   ("web/router.js", "function", "Router.matchPath", None, None),
                   ("web/router.js", "lines", None, 3, 5),
                   ("web/router.js", "lines", None, 9, 9)]
    assert [p.rank for p in parse_locations(text)] == [0, 1, 2, 3, 4]


def test_empty_and_garbage_text_give_no_pointers():
    assert parse_locations("") == []
    assert parse_locations("I could not find anything relevant.\n\n```\n```") == []


def test_symbols_resolve_to_class_method_and_assignment_spans():
    spans = {p.symbol: (p.start_line, p.end_line, p.resolved) for p in (
        resolve_pointer(p, PY_MODELS) for p in parse_locations(
            "class: Cart\nfunction: add_item\nvariable: TAX_RATE", "shop/models.py"))}
    assert spans == {"Cart": (8, 26, True), "Cart.add_item": (17, 21, True),
                     "TAX_RATE": (5, 5, True)}


def test_widening_by_ten_lines_is_clipped_to_the_file():
    [p] = parse_locations("function: empty_cart", "shop/models.py")
    wide = resolve_pointer(p, PY_MODELS, context=AGENTLESS_CONTEXT)
    assert (wide.start_line, wide.end_line) == (19, 30)


def test_unresolvable_symbol_is_flagged_not_raised():
    [p] = parse_locations("function: Basket.checkout", "shop/models.py")
    out = resolve_pointer(p, PY_MODELS)
    assert out.resolved is False and out.start_line is None and out.end_line is None
    [q] = parse_locations("class: Cart", "notes.txt")  # no grammar for the file
    assert resolve_pointer(q, "Cart here").resolved is False


def test_lines_outside_the_file_are_clipped_or_flagged():
    n_lines = len(PY_MODELS.splitlines())
    inside, partly, outside = parse_locations(
        f"line: 3\nline: {n_lines - 1}-{n_lines + 40}\nline: {n_lines + 100}", "shop/models.py")
    assert resolve_pointer(inside, PY_MODELS).start_line == 3
    clipped = resolve_pointer(partly, PY_MODELS)
    assert (clipped.start_line, clipped.end_line, clipped.resolved) == (n_lines - 1, n_lines,
                                                                        True)
    flagged = resolve_pointer(outside, PY_MODELS)
    assert (flagged.start_line, flagged.resolved) == (None, False)


def test_missing_files_in_a_checkout_are_flagged(tmp_path):
    write_files(tmp_path, {"shop/models.py": PY_MODELS})
    pointers = parse_locations("shop/models.py\nclass: Cart\nshop/nope.py\nclass: Cart\n"
                               "../../etc/passwd.py\nline: 1")
    out = resolve_in_repo(pointers, tmp_path)
    assert [p.resolved for p in out] == [True, False, False]


def test_span_maps_back_to_its_enclosing_symbol_and_to_grammar():
    p = symbol_at(PY_MODELS, "shop/models.py", 19, 20)
    assert (p.kind, p.symbol, p.start_line, p.end_line) == ("function", "Cart.add_item", 17, 21)
    assert symbol_at(PY_MODELS, "shop/models.py", 1).kind == "lines"
    text = to_grammar([p, CodePointer(file_path="shop/models.py", kind="lines", start_line=3,
                                      end_line=3)])
    assert text == "shop/models.py\nfunction: Cart.add_item\nline: 3\n"
    assert [q.symbol for q in parse_locations(text)] == ["Cart.add_item", None]


def test_overlapping_widened_spans_merge():
    ps = [CodePointer(file_path="a.py", kind="lines", start_line=s, end_line=e, rank=r)
          for s, e, r in ((10, 20, 2), (18, 30, 0), (40, 41, 1))]
    merged = merge_spans(ps)
    assert [(p.start_line, p.end_line, p.rank) for p in merged] == [(10, 30, 0), (40, 41, 1)]


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/data/legacy is absent")
def test_real_agentless_outputs_parse_into_their_stored_locations():
    path = SHARED / "agentless-v1.5-lite-7" / "edit_location_samples" / "loc_outputs.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    parsed = 0
    for row in rows:
        for sample in row["found_edit_locs"]:
            for file_path, texts in sample.items():
                for text in texts:
                    pointers = parse_locations(text, file_path)
                    expected = [line for line in text.splitlines() if line.strip()]
                    assert len(pointers) == len(expected)
                    assert all(p.file_path == file_path for p in pointers)
                    parsed += len(pointers)
        for response in row["edit_loc_traj"]["response"]:
            assert all(p.file_path for p in parse_locations(response))  # headers found
    assert parsed > 0
