"""llm_similarity: a scripted judge scores candidates; values, dedup, call cache, bad replies."""

from __future__ import annotations

import re

import pytest

from swepipe.cli import main
from swepipe.models.local import scripted_service
from swepipe.models.scripted_rules import Rule, Script
from swepipe.rewards.llm_similarity import (
    JUDGE_STAGE, judge_similarity, parse_score, render_prompt,
)
from swepipe.store.writer import StoreWriter
from swepipe.types import Patch
from tests.rewards.conftest import A_DIFF, B_DIFF, GOLD, rewards_of


def _rule(candidate: str, reply: str) -> Rule:
    """Answer `reply` when the prompt's candidate block is exactly `candidate`."""
    block = f"<candidate_patch>\n{candidate.rstrip(chr(10))}\n</candidate_patch>"
    return Rule(pattern=re.escape(block), reply=reply)


SCRIPT = Script(default="I cannot tell.", rules=[
    _rule(A_DIFF, "Fixes a.py only.\n<score>0.4</score>"),
    _rule(GOLD, "Score: 1"),
    _rule(B_DIFF, "Looks plausible."),  # no score: unparseable
])


@pytest.fixture
def two_configs(handmade):
    store, instance, w = handmade
    gen = w.config("generate", "test.gen")
    w.result("generate", gen, instance, [Patch(diff=A_DIFF, sample_idx=0),
                                         Patch(diff=GOLD, sample_idx=1),
                                         Patch(diff=B_DIFF, sample_idx=2),
                                         Patch(diff="", sample_idx=3, status="empty")])
    other = w.config("generate", "test.other")
    w.result("generate", other, instance, [Patch(diff=A_DIFF, sample_idx=0)])
    return store, gen, other


async def _judge(store, config_hash=None):
    async with StoreWriter(store) as writer:
        async with scripted_service(store, writer, SCRIPT, model="judge") as (svc, server):
            report = await judge_similarity(store, svc, config_hash=config_hash)
            return report, server.stats().get("chat", 0)


def test_parse_score_is_tolerant() -> None:
    assert parse_score("reasoning...\n<score>0.75</score>") == 0.75
    assert parse_score("Score: 0.3") == 0.3
    assert parse_score("final score = 7/10") == 0.7
    assert parse_score("The score is 80%") == 0.8
    assert parse_score(" 1 ") == 1.0
    assert parse_score("<score>.5</score> ... <score>0.25</score>") == 0.25  # the last one
    assert parse_score("<score>1.5</score>") is None  # out of range
    assert parse_score("looks good") is None
    assert parse_score("") is None


def test_prompt_keeps_braces_in_diffs() -> None:
    text = render_prompt("+x = {'a': 1}\n", "+y = {b}\n")
    assert "+x = {'a': 1}" in text and "+y = {b}" in text


async def test_scores_stored_per_sample_and_instance(two_configs) -> None:
    store, gen, other = two_configs
    report, calls = await _judge(store)
    # 3 distinct non-empty pairs (A_DIFF of both configs is asked once); the empty one costs none
    assert (report.pairs, calls) == (3, 3)
    assert report.unparseable == 1 and report.scored == 4
    assert rewards_of(store, "llm_similarity", gen) == pytest.approx(
        {0: 0.4, 1: 1.0, 3: 0.0, -1: (0.4 + 1.0 + 0.0) / 3})  # sample 2 unparseable: no row
    assert rewards_of(store, "llm_similarity", other) == pytest.approx({0: 0.4, -1: 0.4})
    seq = store.query("SELECT DISTINCT stage, instance_id, from_cache FROM sequences").to_pylist()
    assert seq == [{"stage": JUDGE_STAGE, "instance_id": "acme__widgets-1", "from_cache": False}]


async def test_rerun_makes_no_model_calls_and_is_idempotent(two_configs) -> None:
    store, gen, other = two_configs
    await _judge(store)
    before = store.query("SELECT * EXCLUDE (computed_at) FROM rewards ORDER BY ALL").to_pylist()
    report, calls = await _judge(store)
    assert calls == 0 and report.pairs == 3
    after = store.query("SELECT * EXCLUDE (computed_at) FROM rewards ORDER BY ALL").to_pylist()
    assert after == before
    cached = store.query("SELECT count(*) AS n FROM sequences WHERE from_cache").to_pylist()
    assert cached == [{"n": 3}]  # cache hits are still logged


async def test_one_config_leaves_the_others_alone(two_configs) -> None:
    store, gen, other = two_configs
    await _judge(store)
    await _judge(store, config_hash=gen)  # replaces gen's rows only
    assert set(rewards_of(store, "llm_similarity", other)) == {0, -1}


def test_cli_with_the_offline_judge(two_configs, capsys) -> None:
    store, gen, _ = two_configs
    assert main(["--store", str(store.path), "rewards", "--metric", "llm_similarity",
                 "--judge-model", "judge", "--config", gen]) == 0
    assert "3 judged pairs" in capsys.readouterr().out
    # the offline judge gives 1 to the gold patch itself and 0 to anything else
    assert rewards_of(store, "llm_similarity", gen) == pytest.approx(
        {0: 0.0, 1: 1.0, 2: 0.0, 3: 0.0, -1: 0.25})
