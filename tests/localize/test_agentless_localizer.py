"""Agentless hierarchical localization end to end on real git repositories (scripted model)."""

from __future__ import annotations

import logging

import pytest

from swepipe.localize.agentless import AgentlessConfig, AgentlessLocalizer
from swepipe.models.scripted_rules import Rule

from tests.localize.agentless_script import FILES_REPLY, ISSUE, PY_FILES, python_rules
from tests.localize.llm_helpers import git_checkout, instance_for, run_stage


def config(**kw: object) -> AgentlessConfig:
    base = dict(num_samples=3, max_retries=1, context_lines=2)
    return AgentlessConfig(**{**base, **kw})


@pytest.fixture
def py_repo(tmp_path):
    return git_checkout(tmp_path, "acme/shop", PY_FILES)


def spans(pointers, sample):
    return [(p.file_path, p.kind, p.symbol, p.start_line, p.end_line, p.resolved)
            for p in pointers if p.sample_idx == sample]


async def test_agentless_samples_edit_locations_and_records_bad_replies(store, py_repo, caplog):
    repo_dir, sha = py_repo
    cfg = config()
    with caplog.at_level(logging.WARNING, logger="swepipe.localize"):
        run = await run_stage(store, AgentlessLocalizer(cfg), cfg,
                              instance_for("acme/shop", sha, ISSUE), repo_dir, python_rules())
    assert run.result.status == "done"
    out = run.result.value
    # sample 0 (greedy): `line: 11` and `Cart.total` widened by 2 and merged into one span
    assert spans(out, 0) == [("shop/cart.py", "lines", None, 8, 13, True)]
    # sample 1: the unparseable reply was retried and the retry's location kept
    assert spans(out, 1) == [("shop/pricing.py", "lines", None, 3, 7, True)]
    # sample 2: `line: 900` is outside an 18-line file: kept, unresolved, without lines
    assert spans(out, 2) == [("shop/cart.py", "function", "empty_cart", 15, 18, True),
                             ("shop/cart.py", "lines", None, None, None, False)]
    assert [p.rank for p in out if p.sample_idx == 2] == [0, 1]
    assert run.chat_requests == 1 + 1 + 3 + 1  # files, related, 3 samples, 1 retry
    logged = caplog.text
    assert "path not in the repository: 'shop/missing.py'" in logged
    assert "Cart.nope in shop/cart.py: not defined there" in logged
    assert "shop/elsewhere.py" in logged and "outside the file" in logged


async def test_agentless_second_run_comes_from_the_store_without_model_calls(store, py_repo):
    repo_dir, sha = py_repo
    cfg, instance = config(), instance_for("acme/shop", sha, ISSUE)
    first = await run_stage(store, AgentlessLocalizer(cfg), cfg, instance, repo_dir,
                            python_rules())
    second = await run_stage(store, AgentlessLocalizer(cfg), cfg, instance, repo_dir,
                             python_rules())
    assert first.chat_requests > 0 and not first.result.from_cache
    assert second.chat_requests == 0 and second.result.from_cache
    assert second.result.value == first.result.value


async def test_agentless_call_cache_makes_a_new_config_pay_only_for_new_requests(store, py_repo):
    repo_dir, sha = py_repo
    instance = instance_for("acme/shop", sha, ISSUE)
    await run_stage(store, AgentlessLocalizer(config()), config(), instance, repo_dir,
                    python_rules())
    # two more samples: the files, related and first three samples' requests are cache hits;
    # sample 3 gets reply 6 % 6 (usable), sample 4 reply 8 % 6 (unusable) and a retry
    wider = config(num_samples=5)
    run = await run_stage(store, AgentlessLocalizer(wider), wider, instance, repo_dir,
                          python_rules())
    assert run.result.status == "done" and not run.result.from_cache
    assert run.chat_requests == 3
    assert {p.sample_idx for p in run.result.value} == {0, 1, 2, 3, 4}


async def test_agentless_irrelevant_folders_leave_the_file_tree(store, py_repo, caplog):
    repo_dir, sha = py_repo
    rules = [Rule(pattern="list the folders that are irrelevant",
                  reply="```\ndocs/\nshop/util/\nnot_a_dir/\n```"),
             # Only a tree that still shows shop/util/ makes the model pick strings.py.
             Rule(pattern=r"list the files that one would need.*strings\.py",
                  reply="shop/util/strings.py"),
             *python_rules()]
    cfg = config(filter_irrelevant=True, stop_after="files")
    with caplog.at_level(logging.WARNING, logger="swepipe.localize"):
        run = await run_stage(store, AgentlessLocalizer(cfg), cfg,
                              instance_for("acme/shop", sha, ISSUE), repo_dir, rules)
    assert [(p.file_path, p.kind, p.rank) for p in run.result.value] == [
        ("shop/cart.py", "file", 0), ("shop/pricing.py", "file", 1)]
    assert "irrelevant folder not in the repository: 'not_a_dir'" in caplog.text


async def test_agentless_unusable_replies_end_in_fewer_pointers_not_a_crash(store, py_repo,
                                                                            caplog):
    repo_dir, sha = py_repo
    rules = [Rule(pattern="list the files that one would need to edit", reply=FILES_REPLY),
             Rule(pattern="Skeleton of Relevant Files", reply="```\nclass: Nowhere\n```")]
    cfg = config(max_retries=2)
    caplog.set_level(logging.WARNING, logger="swepipe.localize")
    run = await run_stage(store, AgentlessLocalizer(cfg), cfg,
                          instance_for("acme/shop", sha, ISSUE), repo_dir, rules)
    assert run.result.status == "done"
    # no element resolved after 3 attempts: the suspicious files are the output
    assert [(p.file_path, p.kind) for p in run.result.value] == [
        ("shop/cart.py", "file"), ("shop/pricing.py", "file")]
    assert run.chat_requests == 1 + 3
    assert "no related elements found" in caplog.text

    # a file list naming no existing file: an empty localization, recorded, not a failure
    garbage = [Rule(pattern="list the files", reply="no idea, maybe `nothing.py`?")]
    other = instance_for("acme/shop", sha, "Prices are wrong", "acme__x-2")
    run = await run_stage(store, AgentlessLocalizer(config(max_retries=0)),
                          config(max_retries=0), other, repo_dir, garbage)
    assert run.result.status == "done" and run.result.value == []
    assert "path not in the repository: 'nothing.py'" in caplog.text


GO_CART = """package cart

// Cart holds line items.
type Cart struct {
\tItems []Item
}

type Item struct {
\tPrice int
\tQty   int
}

func (c *Cart) Total() int {
\ttotal := 0
\tfor _, it := range c.Items {
\t\ttotal += it.Price
\t}
\treturn total
}
"""
TS_CART = """export interface Item {
  price: number;
  qty: number;
}

export class Cart {
  constructor(private items: Item[]) {}

  total(): number {
    return this.items.reduce((sum, it) => sum + it.price, 0);
  }
}
"""


async def test_agentless_go_and_typescript_skeletons_and_numbered_lines(store, tmp_path):
    files = {"pkg/cart/cart.go": GO_CART, "web/src/cart.ts": TS_CART,
             "web/src/format.js": 'export function formatPrice(p) {\n  return "$" + p;\n}\n',
             "pkg/cart/cart_test.go": "package cart\n"}
    repo_dir, sha = git_checkout(tmp_path, "acme/polyglot", files)
    rules = [
        Rule(pattern="list the files that one would need to edit",
             reply="pkg/cart/cart.go\nweb/src/cart.ts"),
        # answered only when both skeletons (bodies elided) are in the prompt
        Rule(pattern=r"func \(c \*Cart\) Total\(\) int \{ \.\.\. \}"
                     r".*total\(\): number \{ \.\.\. \}",
             reply="pkg/cart/cart.go\nfunction: Cart.Total\n\nweb/src/cart.ts\n"
                   "function: Cart.total\n"),
        # answered only when the numbered code of both methods is in the prompt
        Rule(pattern=r"16\|\t\ttotal \+= it\.Price.*10\|    return this\.items",
             reply="### pkg/cart/cart.go\nline: 16\n\n### web/src/cart.ts\n- line: 10\n"),
    ]
    cfg = AgentlessConfig(num_samples=1, context_lines=0)
    run = await run_stage(store, AgentlessLocalizer(cfg), cfg,
                          instance_for("acme/polyglot", sha, "Cart total ignores qty"),
                          repo_dir, rules)
    assert [(p.file_path, p.start_line, p.end_line, p.rank) for p in run.result.value] == [
        ("pkg/cart/cart.go", 16, 16, 0), ("web/src/cart.ts", 10, 10, 1)]

    related = AgentlessConfig(stop_after="related")
    run = await run_stage(store, AgentlessLocalizer(related), related,
                          instance_for("acme/polyglot", sha, "Cart total ignores qty"),
                          repo_dir, rules)
    assert [(p.file_path, p.kind, p.symbol, p.start_line, p.end_line)
            for p in run.result.value] == [
        ("pkg/cart/cart.go", "function", "Cart.Total", 13, 19),
        ("web/src/cart.ts", "function", "Cart.total", 9, 11)]
