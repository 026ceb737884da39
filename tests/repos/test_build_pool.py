"""Index builds on worker processes: the same segment as in process, clear failures."""

import os
import shutil
from pathlib import Path

import pytest

from swepipe.errors import StoreError
from swepipe.localize.retrieval import RetrievalLocalizerConfig
from swepipe.repos import block_reuse, build_pool
from swepipe.repos.build_pool import run_in_workers, worker_cpu_seconds
from swepipe.repos.chunks import ChunkConfig
from swepipe.repos.code import CodeIntel
from swepipe.repos.embedders import HashingEmbedder
from swepipe.repos.index import open_or_build

from tests.repos.gitrepo import SHOP_FILES, write_files

SOURCE = Path(__file__).resolve().parents[2] / "src" / "swepipe"
CONFIG = RetrievalLocalizerConfig()


@pytest.fixture(autouse=True)
def fresh_memos(monkeypatch):
    """Each build cuts its blocks itself (no blocks remembered from another test's build)."""
    monkeypatch.setattr(block_reuse, "_memos", {})


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of swepipe's own source: real code, a hundred-odd files."""
    out = tmp_path / "tree" / "swepipe"
    shutil.copytree(SOURCE, out, ignore=shutil.ignore_patterns("__pycache__"))
    return out.parent


async def _build(index_dir: Path, tree: Path, workers: int,
                 chunking: ChunkConfig = CONFIG.chunking, intel: CodeIntel | None = None):
    # trigrams on (the embedder's own default): more features summed per bucket
    return await open_or_build(index_dir, "acme/swepipe", "0" * 40, tree,
                               lexical=HashingEmbedder(), chunking=chunking, files=CONFIG.files,
                               workers=workers, intel=intel)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.endswith(".lock")}


async def test_two_workers_write_the_segment_and_view_one_process_writes(tree, tmp_path,
                                                                         monkeypatch):
    monkeypatch.setattr(build_pool, "POOL_MIN_BYTES", 1)
    # the reference: every file parsed and chunked whole in this process (a caller's CodeIntel)
    alone = await _build(tmp_path / "one", tree, workers=1, intel=CodeIntel())
    before = worker_cpu_seconds()
    pooled = await _build(tmp_path / "two", tree, workers=2)  # top-level blocks, on workers
    assert worker_cpu_seconds() > before  # the workers did the chunking and featurizing
    assert len(alone.files) > 2 * build_pool.BATCHES_PER_WORKER
    assert pooled.size == alone.size
    one, two = _files(tmp_path / "one"), _files(tmp_path / "two")
    assert any("/segments/" in name for name in one)
    assert one.keys() == two.keys()
    assert [name for name in one if one[name] != two[name]] == []


async def test_few_new_files_are_built_in_process(tmp_path):
    write_files(tmp_path / "shop", SHOP_FILES)
    before = worker_cpu_seconds()
    await _build(tmp_path / "idx", tmp_path / "shop", workers=2)
    assert worker_cpu_seconds() == before


@pytest.mark.filterwarnings("ignore:Pydantic serializer warnings")  # the store's fingerprint
async def test_a_worker_exception_is_a_store_error_and_leaves_no_segment_or_view(
        tree, tmp_path, monkeypatch):
    monkeypatch.setattr(build_pool, "POOL_MIN_BYTES", 1)
    # a config that skipped validation: every worker fails comparing token counts with it
    broken = ChunkConfig.model_construct(max_tokens="512")
    with pytest.raises(StoreError, match=r"worker failed on batch \d+ \(swepipe/.*TypeError"):
        await _build(tmp_path / "idx", tree, workers=2, chunking=broken)
    [store] = (tmp_path / "idx" / "acme__swepipe").iterdir()
    leftovers = [p for p in store.rglob("*") if not p.name.endswith(".lock")
                 and p.parent.name in ("segments", "views")]
    assert leftovers == []  # not even a temporary
    index = await _build(tmp_path / "idx", tree, workers=2)  # the pool still works
    assert index.size > 0


def test_a_worker_that_dies_is_a_store_error_and_the_next_call_gets_a_new_pool():
    with pytest.raises(StoreError, match="worker process died"):
        run_in_workers(os._exit, [(3,)], 2)
    assert run_in_workers(pow, [(2, 5), (3, 2)], 2) == [32, 9]
