"""CodeMonkeys relevance scan, ranking and packing end to end (Python, JavaScript, Go files)."""

from __future__ import annotations

import logging

import pytest

from swepipe.localize.codemonkeys import CodeMonkeysConfig, CodeMonkeysLocalizer
from swepipe.localize.codemonkeys_retrieval_first import (RetrievalFirstConfig,
                                                          RetrievalFirstLocalizer)
from swepipe.models.scripted_rules import Rule
from swepipe.models.tokens import estimate_tokens

from tests.localize.llm_helpers import git_checkout, instance_for, run_stage

FILES = {
    "shop/cart.py": "class Cart:\n    def total(self):\n        return sum(i.price for i in "
                    "self.items)\n",
    "shop/orders.py": "def place_order(cart):\n    return {'total': cart.total()}\n",
    "web/src/discount.js": "export function applyDiscount(total, pct) {\n  return total * "
                           "(1 - pct);\n}\n",
    "pkg/cart/cart.go": "package cart\n\nfunc Total(p []int) int { return 0 }\n",
    "shop/empty.py": "",
    "shop/mail.py": "def send(to, body):\n    return (to, body)\n",
    "docs/conf.py": "project = 'shop'\n",
    "tests/test_cart.py": "def test_total():\n    assert True\n",
}
ISSUE = "Cart total ignores quantity and discounts"
RELEVANT = {"shop/cart.py": "RELEVANCE: Relevant\nSUMMARY: Cart.total sums prices only.",
            "web/src/discount.js": "**RELEVANCE:** Relevant\n**SUMMARY:** applyDiscount.",
            "pkg/cart/cart.go": "relevance: relevant\nsummary: Total sums prices."}
# Ranking j uses seed j; merged by mean relative rank: cart 1/3, discount 4/9, go 5/9.
RANKINGS = ['```json\n["shop/cart.py", "web/src/discount.js", "pkg/cart/cart.go"]\n```',
            "Not JSON at all:\nweb/src/discount.js\nshop/cart.py",
            '["pkg/cart/cart.go", "nonexistent.py", "shop/cart.py"]']


def rules() -> list[Rule]:
    out = [Rule(pattern=f'<file path="{path}">', reply=reply) for path, reply in RELEVANT.items()]
    out.append(Rule(pattern='<file path="shop/orders.py">', reply="Hmm, hard to say."))
    out.append(Rule(pattern="Rank these files", reply=RANKINGS))
    return out


@pytest.fixture
def repo(tmp_path):
    return git_checkout(tmp_path, "acme/mono", FILES)


def tokens(path: str) -> int:
    return estimate_tokens(FILES[path])  # the scripted /tokenize counts utf-8 bytes / 4


async def test_codemonkeys_ranks_relevant_files_and_packs_them_within_budget(store, repo,
                                                                            caplog):
    repo_dir, sha = repo
    budget = tokens("shop/cart.py") + tokens("web/src/discount.js") + 1  # the .go file won't fit
    cfg = CodeMonkeysConfig(context_budget=budget)
    with caplog.at_level(logging.WARNING, logger="swepipe.localize"):
        run = await run_stage(store, CodeMonkeysLocalizer(cfg), cfg,
                              instance_for("acme/mono", sha, ISSUE), repo_dir, rules(),
                              default="RELEVANCE: Not Relevant")
    out = run.result.value
    assert [(p.file_path, p.kind, p.rank, p.tokens) for p in out] == [
        ("shop/cart.py", "file", 0, tokens("shop/cart.py")),
        ("web/src/discount.js", "file", 1, tokens("web/src/discount.js"))]
    assert out[0].score == pytest.approx(1 - 1 / 3) and out[1].score == pytest.approx(1 - 4 / 9)
    # 6 non-empty, non-test files judged (one call each; none for the empty file) + 3 rankings
    assert run.chat_requests == 6 + 3
    assert "shop/orders.py" in caplog.text  # no verdict: counted not relevant, logged
    assert "nonexistent.py" in caplog.text and "not a JSON list" in caplog.text

    # with skip_oversized, the discount file (too big for what is left) is passed over
    assert tokens("web/src/discount.js") > tokens("pkg/cart/cart.go")
    skipping = CodeMonkeysConfig(context_budget=tokens("shop/cart.py") + tokens("pkg/cart/cart.go"),
                                 skip_oversized=True)
    run = await run_stage(store, CodeMonkeysLocalizer(skipping), skipping,
                          instance_for("acme/mono", sha, ISSUE), repo_dir, rules(),
                          default="RELEVANCE: Not Relevant")
    assert [p.file_path for p in run.result.value] == ["shop/cart.py", "pkg/cart/cart.go"]


async def test_codemonkeys_judgements_are_reused_by_another_config_and_a_rerun(store, repo):
    repo_dir, sha = repo
    instance = instance_for("acme/mono", sha, ISSUE)
    cfg = CodeMonkeysConfig()
    first = await run_stage(store, CodeMonkeysLocalizer(cfg), cfg, instance, repo_dir, rules(),
                            default="RELEVANCE: Not Relevant")
    again = await run_stage(store, CodeMonkeysLocalizer(cfg), cfg, instance, repo_dir, rules(),
                            default="RELEVANCE: Not Relevant")
    assert again.chat_requests == 0 and again.result.from_cache
    assert again.result.value == first.result.value
    # Another config (different budget, one ranking): every relevance judgement comes from the
    # call cache; only its ranking request (the prompt names the budget) is new.
    other = CodeMonkeysConfig(context_budget=50_000, ranking_samples=1)
    assert other.hash() != cfg.hash()
    run = await run_stage(store, CodeMonkeysLocalizer(other), other, instance, repo_dir,
                          rules(), default="RELEVANCE: Not Relevant")
    assert run.result.status == "done" and not run.result.from_cache
    assert run.chat_requests == 1


async def test_codemonkeys_retrieval_first_judges_only_the_top_k_files(store, repo, tmp_path):
    repo_dir, sha = repo
    instance = instance_for("acme/mono", sha, ISSUE)
    cfg = RetrievalFirstConfig(top_k=2, ranking_samples=1,
                               retrieval={"component": "retrieval", "top_files": 2,
                                          "top_chunks": 0, "index_dir": str(tmp_path / "idx")})
    run = await run_stage(store, RetrievalFirstLocalizer(cfg), cfg, instance, repo_dir, rules(),
                          default="RELEVANCE: Not Relevant")
    assert run.result.status == "done"
    judged = store.query(
        "SELECT count(*) AS n, sum(prompt_tokens) AS t FROM sequences WHERE config_hash = ? "
        "AND NOT from_cache", [cfg.hash()]).to_pylist()[0]
    assert run.chat_requests in (2, 3)  # two judgements, plus a ranking when both are relevant
    rerun = await run_stage(store, RetrievalFirstLocalizer(cfg), cfg, instance, repo_dir,
                            rules(), default="RELEVANCE: Not Relevant")
    assert rerun.chat_requests == 0 and rerun.result.value == run.result.value
    full = CodeMonkeysConfig(ranking_samples=1)
    await run_stage(store, CodeMonkeysLocalizer(full), full, instance, repo_dir, rules(),
                    default="RELEVANCE: Not Relevant")
    scanned = store.query("SELECT sum(prompt_tokens) AS t FROM sequences WHERE config_hash = ?",
                          [full.hash()]).to_pylist()[0]
    assert judged["t"] < scanned["t"]
    assert {p.file_path for p in run.result.value} <= set(RELEVANT)
    # the nested retrieval's runtime setting (index_dir) does not enter the hash
    moved = cfg.model_copy(update={"retrieval": cfg.retrieval.model_copy(
        update={"index_dir": tmp_path / "elsewhere"})})
    assert moved.hash() == cfg.hash()
