from swepipe.repos.chunks import ChunkConfig, chunk_source
from tests.repos.gitrepo import PY_MODELS


def test_chunks_follow_definitions_and_cover_each_line_once():
    chunks = chunk_source("shop/models.py", PY_MODELS)
    assert [(c.kind, c.symbol) for c in chunks] == [
        ("lines", None), ("class", "Cart"), ("function", "empty_cart")]
    covered = [n for c in chunks for n in range(c.start_line, c.end_line + 1)]
    assert len(covered) == len(set(covered))
    non_blank = {i + 1 for i, line in enumerate(PY_MODELS.splitlines()) if line.strip()}
    assert non_blank <= set(covered)


def test_a_class_over_the_token_limit_is_split_into_its_members():
    chunks = chunk_source("shop/models.py", PY_MODELS, config=ChunkConfig(max_tokens=80))
    symbols = [c.symbol for c in chunks]
    assert "Cart.add_item" in symbols and "Cart.total_price" in symbols
    assert all(c.tokens <= 80 or c.start_line == c.end_line for c in chunks)


def test_files_without_a_grammar_are_cut_into_windows():
    text = "\n".join(f"line {i} of the readme" for i in range(200))
    chunks = chunk_source("README.md", text, config=ChunkConfig(max_tokens=100))
    assert len(chunks) > 1 and all(c.kind == "lines" for c in chunks)
    assert chunks[0].start_line == 1 and chunks[-1].end_line == 200
