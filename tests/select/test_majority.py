"""Majority vote: normalized groups, ties, empty and failed candidates."""

from swepipe.select.majority import MajorityVoteConfig, MajorityVoteSelector
from swepipe.types import Patch

from .conftest import GOLD, GOLD_NOISY, WRONG_ABS, WRONG_MUL, context, patch

SELECT = MajorityVoteSelector(MajorityVoteConfig())


async def test_gold_injected_among_perturbed_wins_when_its_normal_form_is_most_common(
        instance, repo):
    patches = [patch(WRONG_MUL, 0), patch(GOLD_NOISY, 1), patch(WRONG_ABS, 2), patch(GOLD, 3)]
    sel = await SELECT.select(instance, patches, context(repo))
    assert sel.chosen_sample_idx == 1 and sel.patch == GOLD_NOISY
    assert sel.scores == {0: 1.0, 1: 2.0, 2: 1.0, 3: 2.0}
    assert sel.method == "majority_vote"


async def test_without_normalization_a_comment_splits_the_vote(instance, repo):
    exact = MajorityVoteSelector(MajorityVoteConfig(normalize=False))
    patches = [patch(WRONG_MUL, 0), patch(GOLD_NOISY, 1), patch(GOLD, 2)]
    sel = await exact.select(instance, patches, context(repo))
    assert sel.chosen_sample_idx == 0  # three groups of one: the earliest wins


async def test_tie_goes_to_the_earliest_sample_greedy_first(instance, repo):
    patches = [patch(WRONG_ABS, 4), patch(GOLD, 2), patch(WRONG_ABS, 3), patch(GOLD, 0)]
    sel = await SELECT.select(instance, patches, context(repo))
    assert sel.chosen_sample_idx == 0


async def test_empty_and_failed_candidates_never_win_over_a_usable_one(instance):
    patches = [patch("", 0), patch("", 1), patch("", 2),
               patch(WRONG_MUL, 3, status="apply_failed"),
               patch(WRONG_MUL, 4, status="apply_failed"),
               patch(GOLD, 5)]
    sel = await SELECT.select(instance, patches, context())
    assert sel.chosen_sample_idx == 5 and sel.patch == GOLD
    assert sel.scores[0] == 0.0 and sel.scores[3] == 0.0


async def test_all_empty_candidates_submit_no_change(instance):
    sel = await SELECT.select(instance, [patch("", 2), patch("", 1)], context())
    assert (sel.chosen_sample_idx, sel.patch) == (1, "")
    assert "no usable candidate" in sel.rationale


async def test_no_candidates_chooses_nothing(instance):
    sel = await SELECT.select(instance, [], context())
    assert sel.chosen_sample_idx is None and sel.patch == ""


async def test_generator_normal_form_is_used_when_present(instance):
    a = Patch(diff=WRONG_MUL, sample_idx=0, normalized_diff="X")
    b = Patch(diff=WRONG_ABS, sample_idx=1, normalized_diff="Y")
    c = Patch(diff=GOLD, sample_idx=2, normalized_diff="Y")
    sel = await SELECT.select(instance, [a, b, c], context())
    assert sel.chosen_sample_idx == 1
