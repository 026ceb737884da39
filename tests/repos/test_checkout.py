import asyncio
import multiprocessing
from pathlib import Path

import pytest

from swepipe.errors import InputError
from swepipe.repos.checkout import CheckoutConfig, Checkouts, repo_dirname
from tests.repos.gitrepo import SHOP_FILES, commit_all, git, make_repo, write_files


@pytest.fixture
def clones(tmp_path: Path) -> tuple[Path, str, str]:
    """`repos_dir` with one clone (`acme__shop`) holding two commits."""
    repos = tmp_path / "repos"
    first = make_repo(repos / "acme__shop", SHOP_FILES)
    write_files(repos / "acme__shop", {"shop/models.py": "X = 2\n"})
    second = commit_all(repos / "acme__shop", "second")
    return repos, first, second


def test_checkout_has_the_files_of_the_requested_commit(tmp_path, clones):
    repos, first, second = clones
    co = Checkouts(CheckoutConfig(cache_dir=tmp_path / "cache", repos_dir=repos))
    old, new = co.checkout("acme/shop", first), co.checkout("acme/shop", second)
    assert "class Cart" in (old / "shop/models.py").read_text()
    assert (new / "shop/models.py").read_text() == "X = 2\n"
    assert old == tmp_path / "cache" / "acme__shop" / first
    assert not (old / ".git").exists()


def test_checkout_is_shared_and_built_once(tmp_path, clones):
    repos, first, _ = clones
    co = Checkouts(CheckoutConfig(cache_dir=tmp_path / "cache", repos_dir=repos))
    path = co.checkout("acme/shop", first[:10])  # a short sha resolves to the same checkout
    marker = path / "marker"
    marker.write_text("kept")  # a rebuild would drop it
    assert co.checkout("acme/shop", first) == path
    assert marker.exists()


def test_checkout_leaves_the_source_clone_untouched(tmp_path, clones):
    repos, first, second = clones
    Checkouts(CheckoutConfig(cache_dir=tmp_path / "c", repos_dir=repos)).checkout("acme/shop",
                                                                                   first)
    clone = repos / "acme__shop"
    assert git(clone, "status", "--porcelain") == ""
    assert git(clone, "rev-parse", "HEAD") == second
    assert git(clone, "worktree", "list").count("\n") == 0


def test_checkout_ignores_export_ignore_attributes(tmp_path):
    repos = tmp_path / "repos"
    sha = make_repo(repos / "a__b", {".gitattributes": "tests/ export-ignore\n",
                                     "tests/test_x.py": "def test(): pass\n"})
    path = Checkouts(CheckoutConfig(cache_dir=tmp_path / "c", repos_dir=repos)).checkout(
        "a/b", sha)
    assert (path / "tests/test_x.py").exists()


async def test_concurrent_tasks_get_one_checkout(tmp_path, clones):
    repos, first, _ = clones
    co = Checkouts(CheckoutConfig(cache_dir=tmp_path / "cache", repos_dir=repos))
    # More tasks than the default executor has threads: none may starve the builder.
    paths = await asyncio.gather(*(co.checkout_async("acme/shop", first) for _ in range(32)))
    assert len(set(paths)) == 1
    leftovers = [p.name for p in (tmp_path / "cache" / "acme__shop").iterdir()
                 if p.name.startswith(".") and "tmp" in p.name]
    assert leftovers == []


def _checkout_in_process(cache: str, repos: str, commit: str, out) -> None:
    co = Checkouts(CheckoutConfig(cache_dir=Path(cache), repos_dir=Path(repos)))
    out.put(str(co.checkout("acme/shop", commit)))


def test_two_processes_share_one_checkout(tmp_path, clones):
    repos, first, _ = clones
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_checkout_in_process,
                         args=(str(tmp_path / "cache"), str(repos), first, out)) for _ in range(2)]
    for p in procs:
        p.start()
    results = {out.get(timeout=60) for _ in procs}
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert len(results) == 1
    assert (Path(results.pop()) / "shop/models.py").exists()


def test_missing_repository_is_an_input_error(tmp_path, clones):
    repos, first, _ = clones
    co = Checkouts(CheckoutConfig(cache_dir=tmp_path / "cache", repos_dir=repos))
    with pytest.raises(InputError, match="no local clone of acme/other"):
        co.checkout("acme/other", first)


def test_missing_commit_is_an_input_error(tmp_path, clones):
    repos, _, _ = clones
    co = Checkouts(CheckoutConfig(cache_dir=tmp_path / "cache", repos_dir=repos))
    with pytest.raises(InputError, match="commit 0123456789abcdef not found"):
        co.checkout("acme/shop", "0123456789abcdef")
    with pytest.raises(InputError, match="invalid commit"):
        co.checkout("acme/shop", "--upload-pack=evil")


def test_malformed_repository_name_is_an_input_error():
    with pytest.raises(InputError):
        repo_dirname("../etc")


def test_clone_url_is_used_only_when_network_is_allowed(tmp_path, clones):
    repos, first, _ = clones
    url = f"file://{repos}/{{dirname}}"
    closed = Checkouts(CheckoutConfig(cache_dir=tmp_path / "c1", clone_url=url))
    with pytest.raises(InputError, match="allow_network"):
        closed.checkout("acme/shop", first)
    opened = Checkouts(CheckoutConfig(cache_dir=tmp_path / "c2", clone_url=url,
                                      allow_network=True))
    path = opened.checkout("acme/shop", first)
    assert (path / "web/router.js").exists()
    assert (tmp_path / "c2" / "_clones" / "acme__shop.git").is_dir()


def test_trees_dir_hands_out_the_instance_tree_as_is_before_any_clone(tmp_path, clones):
    repos, first, _ = clones
    tree = tmp_path / "trees" / "acme__shop-7"
    (tree / "shop").mkdir(parents=True)
    (tree / "shop/models.py").write_text("FROM_TREE = 1\n")
    co = Checkouts(CheckoutConfig(cache_dir=tmp_path / "cache", repos_dir=repos,
                                  trees_dir=tmp_path / "trees"))
    assert co.checkout("acme/shop", first, "acme__shop-7") == tree.absolute()
    assert asyncio.run(co.checkout_async("acme/shop", first, "acme__shop-7")) == tree.absolute()
    assert not (tmp_path / "cache" / "acme__shop").exists()  # nothing was materialized
    # an instance without a tree falls back to the clone
    other = co.checkout("acme/shop", first, "acme__shop-8")
    assert other == tmp_path / "cache" / "acme__shop" / first
    assert "class Cart" in (other / "shop/models.py").read_text()


def test_trees_dir_alone_names_the_missing_tree_and_refuses_bad_ids(tmp_path):
    (tmp_path / "trees").mkdir()
    co = Checkouts(CheckoutConfig(cache_dir=tmp_path / "cache", trees_dir=tmp_path / "trees"))
    with pytest.raises(InputError, match="no tree in .*trees"):
        co.checkout("acme/shop", "abc123", "acme__shop-1")
    with pytest.raises(InputError, match="instance id '../x'") as err:
        co.checkout("acme/shop", "abc123", "../x")
    assert err.value.field == "instance_id"
