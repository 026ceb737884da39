"""Top-level block reuse: the same chunks and rows as chunking each file whole, less work."""

import tarfile

import pytest

from swepipe.localize.retrieval import RetrievalLocalizerConfig
from swepipe.repos import block_reuse
from swepipe.repos.block_reuse import BlockBuild, BlockMemo, block_starts, chunk_block, \
    split_file
from swepipe.repos.build_pool import Built, build_contents
from swepipe.repos.code import CodeIntel
from swepipe.repos.embedders import HashingEmbedder
from swepipe.repos.files import list_files

CONFIG = RetrievalLocalizerConfig()
LEXICAL = HashingEmbedder(CONFIG.local_embedder)

V1 = '''"""A module."""
import os


@register
@cache(
    size=3)
# a comment between decorators and the function
def first(a):
    return os.path.join(a, "x")


class Shop:
    """Sells things."""

    def buy(self, item):
        return item


X = 1

async def fetch(url):
    return url
'''
V2 = V1.replace("return item", "return [item, item]").replace('"""A module."""',
                                                           '"""A module.\n\nLonger."""')


@pytest.fixture(autouse=True)
def fresh_memos(monkeypatch):
    monkeypatch.setattr(block_reuse, "_memos", {})


def _rows(built: Built) -> list[tuple]:
    rows = built.rows
    return [(rows.buckets[a:b].tolist(), rows.weights[a:b].tolist())
            for a, b in zip(rows.indptr[:-1], rows.indptr[1:])]


def assert_same(got: Built, want: Built) -> None:
    assert got.chunks == want.chunks
    assert got.file_tokens == want.file_tokens
    assert _rows(got) == _rows(want)


def _whole(items: list[tuple[str, bytes]]) -> Built:
    # a caller's CodeIntel keeps the build in process, every file parsed whole: the reference
    return build_contents(items, CONFIG.chunking, LEXICAL, intel=CodeIntel())


def test_blocks_start_at_top_level_definitions_and_their_first_decorator():
    starts = block_starts(V1)
    assert [V1[i: i + 12] for i in starts] == \
        ['"""A module.', "@register\n@c", "class Shop:\n", "async def fe"]


def test_files_with_other_line_breaks_are_not_split():
    assert block_starts("a = 1\r\ndef f():\r\n    pass\r\n") == [0, 7]
    assert block_starts("a = 1\rdef f():\r    pass\r") is None
    assert block_starts("a = 1\x0c\ndef f():\n    pass\n") is None
    assert split_file("shop/app.js", "function f() {}\n") is None


def test_a_new_version_cuts_only_its_changed_blocks_and_matches_the_whole_file_build():
    items1, items2 = [("shop/app.py", V1.encode())], [("shop/app.py", V2.encode())]
    assert_same(build_contents(items1, CONFIG.chunking, LEXICAL), _whole(items1))
    memo = block_reuse.memo_for(CONFIG.chunking, LEXICAL.config)
    plans = [split_file("shop/app.py", V2)]
    missing = BlockBuild(memo, plans).missing()
    # the changed docstring and class are cut again; the two unchanged functions come from
    # the memo although a longer docstring moved them two lines down
    assert [b.text.split("\n")[0] for b in missing] == ['"""A module.', "class Shop:"]
    got = build_contents(items2, CONFIG.chunking, LEXICAL)
    assert_same(got, _whole(items2))
    assert [c.start_line for c in got.chunks[0]][-1] == V2.count("\n") - 1


@pytest.mark.parametrize("source", [
    # a column-0 `def` inside a string: the guessed cut leaves a block that does not parse
    'HELP = """\ndef not_code():\n"""\n\ndef real():\n    return HELP\n',
    # a syntax error in one block
    "def broken(:\n    pass\n\ndef fine():\n    return 1\n",
    # a decorator closed on its own column-0 line
    "@wraps(\n    f\n)\ndef g():\n    pass\n",
])
def test_a_file_whose_blocks_do_not_parse_alone_is_chunked_whole(source):
    items = [("pkg/mod.py", source.encode())]
    plan = split_file("pkg/mod.py", source)
    assert plan is not None and len(plan) >= 2
    assert any(chunk_block(b.path, b.text, CONFIG.chunking) is None for b in plan)
    assert_same(build_contents(items, CONFIG.chunking, LEXICAL), _whole(items))


def test_an_evicting_memo_loses_nothing_mid_build():
    # room for about one block: every build evicts blocks it has just cut
    memo = block_reuse._memos[(CONFIG.chunking, LEXICAL.config)] = BlockMemo(max_bytes=120)
    items = [("a.py", V1.encode()), ("b.py", V2.encode()), ("c.py", V1.encode())]
    assert_same(build_contents(items, CONFIG.chunking, LEXICAL), _whole(items))
    assert 0 < memo.bytes <= 120
    assert_same(build_contents(items, CONFIG.chunking, LEXICAL), _whole(items))


def test_real_commits_of_a_repository_build_the_same_as_whole_files(shared_data, tmp_path):
    """pytest's eight development-set commits, one after another, as an index build sees
    them: the new contents of each, reusing the blocks of the ones before."""
    with tarfile.open(shared_data / "repos-verified-dev" / "pytest-dev__pytest.tar.xz") as tar:
        tar.extractall(tmp_path, filter="data")
    seen: set[tuple[str, bytes]] = set()
    reused = 0
    for tree in sorted(tmp_path.iterdir()):
        items = [(p, (tree / p).read_bytes()) for p in list_files(tree, CONFIG.files)]
        items = [item for item in items if item not in seen]
        seen.update(items)
        memo = block_reuse.memo_for(CONFIG.chunking, LEXICAL.config)
        before = len(memo)
        plans = [split_file(p, d.decode()) for p, d in items]
        n_blocks = sum(len(p or ()) for p in plans)
        reused += n_blocks - len(BlockBuild(memo, plans).missing())
        assert_same(build_contents(items, CONFIG.chunking, LEXICAL), _whole(items))
        assert len(memo) >= before
    assert reused > 1000  # unchanged blocks of changed files were taken, not cut again
