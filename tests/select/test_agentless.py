"""Agentless filtered vote on a real repository: regression tests (pytest, on the original code
and each candidate), the reproduction test, the optional model filter, and the fallbacks."""

from swepipe.select.agentless import AgentlessSelectConfig, AgentlessSelector
from swepipe.select.test_matrix import MemoryTestMatrix

from .conftest import BREAKS_MUL, GOLD, REPRO, WRONG_MUL, context, patch


async def test_regression_filter_beats_a_majority_that_breaks_existing_tests(
        instance, repo, sandbox):
    patches = [patch(BREAKS_MUL, 0), patch(BREAKS_MUL, 1), patch(GOLD, 2), patch("", 3)]
    sel = await AgentlessSelector(AgentlessSelectConfig(reproduction=False)).select(
        instance, patches, context(repo, sandbox))
    assert sel.chosen_sample_idx == 2 and sel.method == "agentless"
    assert "1 of 1 tests pass on the original code" in sel.rationale
    assert sel.scores == {0: 0.0, 1: 0.0, 2: 1.0, 3: 0.0}


async def test_reproduction_filter_prefers_candidates_the_test_says_are_resolved(
        instance, repo, sandbox):
    matrix = MemoryTestMatrix()
    patches = [patch(WRONG_MUL, 0, test=REPRO), patch(WRONG_MUL, 1, test=REPRO),
               patch(GOLD, 2, test=REPRO)]
    selector = AgentlessSelector(AgentlessSelectConfig())
    sel = await selector.select(instance, patches, context(repo, sandbox, test_matrix=matrix))
    assert sel.chosen_sample_idx == 2
    assert "1 candidates pass the reproduction test" in sel.rationale
    calls = sandbox.calls
    again = await selector.select(instance, patches, context(repo, sandbox, test_matrix=matrix))
    assert again.chosen_sample_idx == 2 and sandbox.calls == calls  # all from the matrix


async def test_when_no_candidate_passes_reproduction_all_regression_survivors_vote(
        instance, repo, sandbox):
    never = "print('Issue reproduced')\n"
    patches = [patch(WRONG_MUL, 0), patch(WRONG_MUL, 1), patch(GOLD, 2)]
    sel = await AgentlessSelector(AgentlessSelectConfig(regression=False)).select(
        instance, patches, context(repo, sandbox, reproduction_test=never))
    assert sel.chosen_sample_idx == 0 and "kept all" in sel.rationale


async def test_model_may_exclude_regression_tests_the_fix_should_change(
        instance, repo, sandbox, scripted):
    scripted.enqueue("<exclude>\ntests/test_mul.py::test_mul\n</exclude>")
    patches = [patch(BREAKS_MUL, 0), patch(BREAKS_MUL, 1), patch(GOLD, 2)]
    config = AgentlessSelectConfig(reproduction=False, filter_regression_with_model=True)
    sel = await AgentlessSelector(config).select(
        instance, patches, context(repo, sandbox, scripted.handle()))
    assert sel.chosen_sample_idx == 0 and "the model excluded 1 regression tests" in sel.rationale


async def test_unparseable_regression_filter_reply_keeps_every_test(
        instance, repo, sandbox, scripted):
    patches = [patch(BREAKS_MUL, 0), patch(BREAKS_MUL, 1), patch(GOLD, 2)]
    config = AgentlessSelectConfig(reproduction=False, filter_regression_with_model=True)
    sel = await AgentlessSelector(config).select(
        instance, patches, context(repo, sandbox, scripted.handle()))
    assert sel.chosen_sample_idx == 2 and "unparseable; kept every test" in sel.rationale


async def test_without_executor_filters_are_skipped_and_the_vote_decides(instance, repo):
    patches = [patch(BREAKS_MUL, 0, test=REPRO), patch(BREAKS_MUL, 1), patch(GOLD, 2)]
    sel = await AgentlessSelector(AgentlessSelectConfig()).select(
        instance, patches, context(repo))
    assert sel.chosen_sample_idx == 0
    assert "regression filter skipped" in sel.rationale
    assert "reproduction filter skipped (no executor)" in sel.rationale


async def test_all_empty_candidates_submit_no_change(instance, repo, sandbox):
    sel = await AgentlessSelector(AgentlessSelectConfig()).select(
        instance, [patch("", 0), patch("", 1)], context(repo, sandbox))
    assert sel.patch == "" and sandbox.calls == 0
