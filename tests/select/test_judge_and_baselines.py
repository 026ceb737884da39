"""LLM judge (one call, fallback to the vote) and the random / first / oracle baselines."""

from swepipe.select.baselines import (
    FirstConfig, FirstSelector, OracleConfig, OracleSelector, RandomConfig, RandomSelector,
)
from swepipe.select.judge import LLMJudgeConfig, LLMJudgeSelector
from swepipe.select.test_matrix import MemoryTestMatrix, TestRun
from swepipe.types import patch_hash

from .conftest import GOLD, GOLD_NOISY, WRONG_ABS, WRONG_MUL, context, patch

PERTURBED = [patch(WRONG_MUL, 0), patch(WRONG_ABS, 1), patch(WRONG_MUL, 2), patch(GOLD, 3),
             patch("", 4)]


async def test_judge_choice_is_taken_among_distinct_groups(instance, repo, scripted):
    scripted.enqueue("The third one adds. <choice>3</choice>")
    sel = await LLMJudgeSelector(LLMJudgeConfig()).select(
        instance, PERTURBED, context(repo, model=scripted.handle()))
    assert sel.chosen_sample_idx == 3 and sel.method == "llm_judge"
    assert sel.scores == {0: 2.0, 1: 1.0, 2: 2.0, 3: 1.0, 4: 0.0}


async def test_unparseable_judge_reply_falls_back_to_the_majority_vote(instance, repo, scripted):
    scripted.enqueue("They all look fine to me.")
    sel = await LLMJudgeSelector(LLMJudgeConfig()).select(
        instance, PERTURBED, context(repo, model=scripted.handle()))
    assert sel.chosen_sample_idx == 0 and "unparseable judge reply" in sel.rationale


async def test_judge_without_model_or_with_one_group_uses_the_vote(instance, repo):
    judge = LLMJudgeSelector(LLMJudgeConfig())
    assert (await judge.select(instance, PERTURBED, context(repo))).chosen_sample_idx == 0
    same = [patch(GOLD_NOISY, 0), patch(GOLD, 1)]
    sel = await judge.select(instance, same, context(repo))
    assert sel.chosen_sample_idx == 0 and "one distinct candidate" in sel.rationale


async def test_random_is_seeded_by_config_seed_and_instance(instance):
    picks = {s: (await RandomSelector(RandomConfig(seed=s)).select(
        instance, PERTURBED, context())).chosen_sample_idx for s in range(8)}
    again = await RandomSelector(RandomConfig(seed=3)).select(instance, PERTURBED, context())
    assert again.chosen_sample_idx == picks[3]
    assert set(picks.values()) <= {0, 1, 2, 3} and len(set(picks.values())) > 1


async def test_first_skips_empty_candidates(instance):
    sel = await FirstSelector(FirstConfig()).select(
        instance, [patch("", 0), patch(WRONG_ABS, 1), patch(GOLD, 2)], context())
    assert sel.chosen_sample_idx == 1


async def test_oracle_finds_injected_gold_by_normalized_match_without_executor(instance, repo):
    patches = [patch(WRONG_MUL, 0), patch(GOLD_NOISY, 1), patch(WRONG_ABS, 2)]
    sel = await OracleSelector(OracleConfig()).select(instance, patches, context(repo))
    assert sel.chosen_sample_idx == 1 and "exact match" in sel.rationale


async def test_oracle_runs_gold_tests_with_the_sandbox(instance, repo, sandbox):
    matrix = MemoryTestMatrix()
    sel = await OracleSelector(OracleConfig()).select(
        instance, PERTURBED, context(repo, sandbox, test_matrix=matrix))
    # WRONG_ABS (sample 1) passes these weak gold tests too: the earliest resolved one wins
    assert sel.scores == {0: 0.5, 1: 1.0, 2: 0.5, 3: 1.0, 4: 0.0}
    assert sel.chosen_sample_idx == 1
    assert "gold tests" in sel.rationale
    calls = sandbox.calls
    await OracleSelector(OracleConfig()).select(
        instance, PERTURBED, context(repo, sandbox, test_matrix=matrix))
    assert sandbox.calls == calls  # gold-test outcomes reused from the matrix


async def test_oracle_uses_a_recorded_harness_verdict(instance):
    matrix = MemoryTestMatrix()
    await matrix.record(instance.instance_id, [
        TestRun(patch_hash=patch_hash(p.diff), test_kind="swebench", test_id="resolved",
                status="passed" if p.sample_idx == 1 else "failed") for p in PERTURBED[:4]])
    sel = await OracleSelector(OracleConfig()).select(
        instance, PERTURBED, context(test_matrix=matrix))
    assert sel.chosen_sample_idx == 1 and sel.scores[1] == 1.0
