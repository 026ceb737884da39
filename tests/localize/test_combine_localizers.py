"""Combinators (union, reciprocal-rank fusion, Agentless combine) and nested configs."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from swepipe.localize.agentless import AgentlessConfig, AgentlessLocalizer
from swepipe.localize.combine import (CombineConfig, CombineLocalizer, agentless_combine, rrf,
                                      union)
from swepipe.localize.retrieval import RetrievalLocalizer, RetrievalLocalizerConfig
from swepipe.models.scripted_rules import Rule
from swepipe.registry import build
from swepipe.types import CodePointer

from tests.localize.agentless_script import ISSUE, PY_FILES, RELATED_REPLY, python_rules
from tests.localize.llm_helpers import git_checkout, instance_for, run_stage


def files(*paths: str) -> list[CodePointer]:
    return [CodePointer(file_path=p, kind="file", rank=i) for i, p in enumerate(paths)]


def span(path: str, start: int, end: int, rank: int = 0, sample: int = 0) -> CodePointer:
    return CodePointer(file_path=path, kind="lines", start_line=start, end_line=end, rank=rank,
                       sample_idx=sample)


def test_union_keeps_first_then_new_pointers_of_second_and_renumbers_ranks():
    a = files("a.py", "b.py") + [span("a.py", 1, 5)]
    b = files("b.py", "c.py") + [span("a.py", 1, 5), span("c.py", 2, 3, rank=1)]
    out = union(a, b, top_n=None)
    assert [(p.file_path, p.kind, p.rank) for p in out] == [
        ("a.py", "file", 0), ("b.py", "file", 1), ("a.py", "lines", 0), ("c.py", "file", 2),
        ("c.py", "lines", 1)]
    assert {p.file_path for p in union(a, b, top_n=2)} == {"a.py", "b.py"}


def test_union_keeps_samples_apart_and_orders_them_for_the_store():
    a = [span("a.py", 1, 2, sample=1), span("a.py", 1, 2, sample=0)]
    out = union(a, [span("a.py", 1, 2, sample=1)], top_n=None)
    assert [(p.sample_idx, p.rank) for p in out] == [(0, 0), (1, 0)]


def test_rank_fusion_prefers_files_both_localizers_rank_high():
    a = files("x.py", "shared.py", "y.py")
    b = files("z.py", "shared.py") + [span("shared.py", 3, 4), span("z.py", 1, 1, rank=1)]
    out = rrf(a, b, top_n=3, k=60)
    ranked = [p.file_path for p in out if p.kind == "file"]
    assert ranked[0] == "shared.py" and set(ranked) == {"shared.py", "x.py", "z.py"}
    assert out[0].score == pytest.approx(2 / 62)
    assert [(p.file_path, p.rank) for p in out if p.kind == "lines"] == [("shared.py", 0),
                                                                         ("z.py", 1)]


def test_agentless_combine_puts_model_files_first_then_fills_from_retrieval():
    model = files("m1.py", "m2.py")
    retrieval = files("m2.py", "r1.py", "r2.py")
    assert [p.file_path for p in agentless_combine(model, retrieval, top_n=3)] == [
        "m1.py", "m2.py", "r1.py"]
    assert [p.file_path for p in agentless_combine(files(*"abcd"), retrieval, top_n=3)] == [
        "a", "b", "c"]


def test_nested_config_hashes_enter_the_combinators_identity():
    spec = {"component": "combine", "method": "rrf",
            "first": {"component": "agentless", "stop_after": "files"},
            "second": {"component": "oracle"}}
    _, cfg = build("localize", spec)
    ident = cfg.identity()
    assert ident["first"] == {"component": "agentless",
                              "config_hash": AgentlessConfig(stop_after="files").hash()}
    _, changed = build("localize", {**spec, "first": {"component": "agentless",
                                                      "stop_after": "files", "max_files": 7}})
    assert changed.hash() != cfg.hash()
    with pytest.raises(ValidationError, match="max_filez"):
        CombineConfig.model_validate({**spec, "first": {"component": "agentless",
                                                        "max_filez": 7}})


async def test_agentless_files_combined_with_another_localizer_feed_the_next_steps(store,
                                                                                   tmp_path):
    repo_dir, sha = git_checkout(tmp_path, "acme/shop", PY_FILES)
    # The model names only pricing.py; the oracle's gold file (cart.py) fills the second slot.
    gold = ("diff --git a/shop/cart.py b/shop/cart.py\n--- a/shop/cart.py\n+++ b/shop/cart.py\n"
            "@@ -11 +11 @@\n-        return sum(item.price for item in self.items)\n"
            "+        return sum(i.price * i.qty for i in self.items)\n")
    instance = instance_for("acme/shop", sha, ISSUE).model_copy(update={"patch": gold})
    rules = [Rule(pattern="list the files that one would need", reply="shop/pricing.py"),
             Rule(pattern=r"Skeleton of Relevant Files.*class Cart", reply=RELATED_REPLY),
             *python_rules()[2:]]
    combine = {"component": "combine", "method": "agentless", "top_n": 2,
               "first": {"component": "agentless", "stop_after": "files"},
               "second": {"component": "oracle"}}
    cfg = AgentlessConfig(files_from=combine, num_samples=1, context_lines=2)
    run = await run_stage(store, AgentlessLocalizer(cfg), cfg, instance, repo_dir, rules)
    assert run.result.status == "done"
    assert [(p.file_path, p.start_line, p.end_line) for p in run.result.value] == [
        ("shop/cart.py", 8, 13)]
    again = await run_stage(store, AgentlessLocalizer(cfg), cfg, instance, repo_dir, rules)
    assert again.chat_requests == 0 and again.result.value == run.result.value

    _, combined = build("localize", combine)
    run = await run_stage(store, CombineLocalizer(combined), combined, instance, repo_dir, rules)
    assert [p.file_path for p in run.result.value] == ["shop/pricing.py", "shop/cart.py"]
    assert run.chat_requests == 0  # the file-level request was made above: call cache


OLD_CART = '''"""Old cart, kept for reference: total of prices times quantities."""


class Cart:
    def total(self):
        """Cart total: sums prices times item quantities."""
        return sum(item.price * item.quantity for item in self.items)

    def quantity(self):
        """Total quantity of the items in the cart."""
        return sum(item.quantity for item in self.items)
'''


async def test_retrieval_restricted_to_agentless_kept_files_skips_irrelevant_folders(store,
                                                                                    tmp_path):
    # Agentless v1.5: retrieval searches only what the irrelevant-folder filter keeps
    repo_dir, sha = git_checkout(tmp_path, "acme/shop", {**PY_FILES, "legacy/old_cart.py": OLD_CART})
    instance = instance_for("acme/shop", sha, ISSUE)
    rules = [Rule(pattern="list the folders that are irrelevant", reply="```\nlegacy/\ndocs/\n```")]
    common = {"index_dir": tmp_path / "indexes", "top_files": 5, "top_chunks": 3}
    plain = RetrievalLocalizerConfig(**common)
    kept = {"component": "agentless", "stop_after": "kept", "filter_irrelevant": True}
    restricted = RetrievalLocalizerConfig(**common, restrict_to=kept)

    everywhere = await run_stage(store, RetrievalLocalizer(plain), plain, instance, repo_dir, rules)
    assert "legacy/old_cart.py" in {p.file_path for p in everywhere.result.value}
    assert everywhere.chat_requests == 0

    run = await run_stage(store, RetrievalLocalizer(restricted), restricted, instance, repo_dir,
                          rules)
    found = [p.file_path for p in run.result.value if p.kind == "file"]
    assert found[0] == "shop/cart.py"
    assert not {p.file_path for p in run.result.value} & {"legacy/old_cart.py", "docs/conf.py"}
    assert run.chat_requests == 1  # the irrelevant-folder question

    # the filter's model call enters the config hash; without `restrict_to` nothing changes
    assert RetrievalLocalizer(restricted).uses_model and not RetrievalLocalizer(plain).uses_model
    assert "restrict_to" not in plain.identity() and restricted.hash() != plain.hash()
    nothing = RetrievalLocalizerConfig(**common, restrict_to={**kept, "filter_irrelevant": False})
    assert nothing.hash() != restricted.hash()
