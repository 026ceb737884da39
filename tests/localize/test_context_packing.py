import numpy as np
import pytest

from swepipe.localize.context_packing import ContextPacking, pack_files
from swepipe.localize.retrieval import RetrievalLocalizer
from swepipe.models.tokens import estimate_tokens


def test_an_oversized_file_is_skipped_and_smaller_ones_fill_the_budget():
    scores, tokens = np.array([3.0, 2.0, 1.0, 0.5]), np.array([100, 10, 10, 10])
    by_rank = ContextPacking(budget=25, size_exponent=0.0)
    assert pack_files(scores, tokens, by_rank).tolist() == [1, 2]
    stop = by_rank.model_copy(update={"skip_oversized": False})
    assert pack_files(scores, tokens, stop).tolist() == []
    assert pack_files(scores, tokens, by_rank.model_copy(update={"budget": 1000})).tolist() == \
        [0, 1, 2, 3]


def test_the_size_discount_prefers_more_evidence_per_token_and_keeps_rank_order():
    scores, tokens = np.array([1.0, 0.9, 0.8]), np.array([50, 10, 40])
    plain = ContextPacking(budget=55, size_exponent=0.0)
    assert pack_files(scores, tokens, plain).tolist() == [0]
    # 0.9 / 10 and 0.8 / 40 beat 1.0 / 50 per token: both fit, returned in rank order
    assert pack_files(scores, tokens, plain.model_copy(update={"size_exponent": 1.0})).tolist() \
        == [1, 2]
    assert pack_files(np.zeros(0), np.zeros(0, dtype=np.int64), plain).tolist() == []


def test_mismatched_inputs_are_refused():
    with pytest.raises(ValueError, match="2 scores but 1 token counts"):
        pack_files(np.array([1.0, 2.0]), np.array([3]), ContextPacking())


async def test_retrieval_returns_the_packed_context_with_file_tokens(setup):
    instance, ctx, config = setup
    ranked = [p for p in await RetrievalLocalizer(config.model_copy(update={"top_files": 100}))
              .locate(instance, ctx) if p.kind == "file"]
    for p in ranked:  # the whole file's estimate, what putting it in a prompt costs
        assert p.tokens == estimate_tokens((ctx.repo_dir / p.file_path).read_text())
    budget = sum(p.tokens for p in ranked) - 1  # one file has to go
    packed_cfg = config.model_copy(update={"context": ContextPacking(budget=budget)})
    packed = [p for p in await RetrievalLocalizer(packed_cfg).locate(instance, ctx)
              if p.kind == "file"]
    assert sum(p.tokens for p in packed) <= budget and len(packed) == len(ranked) - 1
    assert [p.rank for p in packed] == list(range(len(packed)))
    order = [p.file_path for p in ranked]
    assert [order.index(p.file_path) for p in packed] == \
        sorted(order.index(p.file_path) for p in packed)
    assert packed_cfg.hash() != config.hash()
    assert "context" not in config.identity()
