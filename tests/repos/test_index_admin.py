"""Index stores on disk: `swepipe index du` and `swepipe index gc` on real stores and repos."""

from pathlib import Path

from swepipe.cli import main
from swepipe.datasets.ingest import ingest_instances
from swepipe.localize.retrieval import RetrievalLocalizer, RetrievalLocalizerConfig
from swepipe.protocols import StageContext
from swepipe.repos.index_admin import index_usage
from swepipe.types import Instance

from tests.repos.gitrepo import commit_all, make_repo, write_files

FILES = {"shop/cart.py": "class Cart:\n    def total_price(self):\n        return 1\n",
         "shop/shipping.py": "def shipping_cost(weight):\n    return weight * 2\n",
         "shop/emails.py": "def send_receipt(order):\n    return order\n"}
ISSUE = "Cart.total_price is wrong when shipping_cost is added"


def _instance(i: int, sha: str) -> Instance:
    return Instance(instance_id=f"acme__shop-{i}", repo="acme/shop", base_commit=sha,
                    problem_statement=ISSUE)


async def _two_commits(tmp_path: Path) -> tuple[RetrievalLocalizerConfig, list[Instance],
                                                  list[StageContext]]:
    """Two trees of one repository (a trees_dir layout), both indexed into one store."""
    clone = tmp_path / "clone"
    first = make_repo(clone, FILES)
    trees = tmp_path / "trees"
    write_files(trees / "acme__shop-1", FILES)
    changed = {**FILES, "shop/shipping.py": "def shipping_cost(weight):\n    return 3\n"}
    write_files(clone, changed)
    second = commit_all(clone, "second")
    write_files(trees / "acme__shop-2", changed)
    config = RetrievalLocalizerConfig(index_dir=tmp_path / "idx", top_files=3, top_chunks=2)
    instances = [_instance(1, first), _instance(2, second)]
    ctxs = [StageContext(model=None, repo_dir=trees / i.instance_id) for i in instances]
    for inst, ctx in zip(instances, ctxs):
        await RetrievalLocalizer(config).locate(inst, ctx)
    return config, instances, ctxs


async def test_index_du_shows_views_segments_and_bytes(tmp_path, capsys):
    config, _, _ = await _two_commits(tmp_path)
    [usage] = index_usage(config.index_dir)
    assert (usage.repo_dir, usage.views, usage.segments) == ("acme__shop", 2, 2)
    assert usage.bytes == sum(f.stat().st_size for f in config.index_dir.rglob("*")
                              if f.is_file())
    assert main(["index", "du", "--index-dir", str(config.index_dir)]) == 0
    out = capsys.readouterr().out
    assert "acme__shop" in out and out.strip().splitlines()[-1].startswith("total")


async def test_index_gc_keeps_stored_commits_and_drops_what_only_others_used(
        tmp_path, store, capsys):
    config, instances, ctxs = await _two_commits(tmp_path)
    before = await RetrievalLocalizer(config).locate(instances[1], ctxs[1])
    ingest_instances(store, [instances[1]], "mini", "test")  # only the second commit is stored
    assert main(["--store", str(store.path), "index", "gc",
                 "--index-dir", str(config.index_dir)]) == 0
    assert "dropped 1 views" in capsys.readouterr().out
    [usage] = index_usage(config.index_dir)
    assert (usage.views, usage.segments) == (1, 2)  # the first segment compacted, not dropped
    segments = sorted(p for p in config.index_dir.glob("*/*/segments/*")
                      if not p.name.startswith("."))
    import numpy as np

    sizes = sorted(len(np.load(p / "keys.npy")) for p in segments)
    assert sizes == [1, 2]  # the old shipping.py is gone; cart.py and emails.py stay shared
    after = await RetrievalLocalizer(config).locate(instances[1], ctxs[1])
    assert after == before
    # nothing of the store is left once no instance refers to it
    store.query("DELETE FROM instances")
    assert main(["--store", str(store.path), "index", "gc",
                 "--index-dir", str(config.index_dir)]) == 0
    assert [(u.views, u.segments) for u in index_usage(config.index_dir)] == [(0, 0)]


def test_index_gc_without_a_store_is_a_one_line_error(tmp_path, capsys):
    assert main(["--store", str(tmp_path / "none.duckdb"), "index", "gc",
                 "--index-dir", str(tmp_path / "idx")]) == 2
    assert "none.duckdb" in capsys.readouterr().err
