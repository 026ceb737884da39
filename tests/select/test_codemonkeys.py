"""CodeMonkeys selection on a real repository with a seeded bug: test vote (ties by shorter
diff, deduplication, top 3), then the selection state machine with the scripted model."""

from swepipe.select.codemonkeys import CodeMonkeysConfig, CodeMonkeysSelector
from swepipe.select.test_matrix import StoreTestMatrix, script_id
from swepipe.select.test_vote import TestVoteConfig, TestVoteSelector, rank_by_tests
from swepipe.store.writer import StoreWriter

from .conftest import (
    ADD_TEST, GOLD, LONG_FIX, NEG_TEST, WRONG_ABS, WRONG_MUL, ZERO_TEST, context, patch,
)


def candidates():
    # WRONG_ABS ties GOLD on the generated tests and comes first: only a new test tells them apart
    return [patch(WRONG_ABS, 0, test=ADD_TEST), patch(GOLD, 1, test=ZERO_TEST),
            patch(WRONG_MUL, 2, test=ADD_TEST), patch(GOLD, 3), patch(LONG_FIX, 4), patch("", 5)]


async def test_vote_counts_passed_tests_dedups_and_breaks_ties_by_shorter_diff(
        instance, repo, sandbox):
    ranking = await rank_by_tests(instance, candidates(), context(repo, sandbox),
                                  TestVoteConfig(top_k=3))
    assert ranking.votes == {0: 2.0, 1: 2.0, 2: 0.0, 3: 2.0, 4: 2.0, 5: 0.0}
    # GOLD appears twice (one entry); LONG_FIX loses the tie on length; WRONG_MUL is cut by top 3
    assert [p.sample_idx for p in ranking.ranked] == [0, 1, 4]
    assert sandbox.calls == 5  # original + 4 distinct candidates, both tests in one copy each


async def test_only_issue_tests_ignores_tests_passing_on_the_original(instance, repo, sandbox):
    always = "raise SystemExit(0)\n"
    ctx = context(repo, sandbox, generated_tests=[always])
    ranking = await rank_by_tests(instance, [patch(GOLD, 0), patch(WRONG_MUL, 1)], ctx,
                                  TestVoteConfig(only_issue_tests=True))
    assert ranking.votes == {0: 0.0, 1: 0.0}
    plain = await rank_by_tests(instance, [patch(GOLD, 0), patch(WRONG_MUL, 1)], ctx,
                                TestVoteConfig())
    assert plain.votes == {0: 1.0, 1: 1.0}


async def test_state_machine_runs_the_models_test_and_takes_its_choice(
        store, instance, repo, sandbox, scripted):
    scripted.enqueue(f"Negatives differ.\n<test>\n```python\n{NEG_TEST}```\n</test>",
                     "Candidate 2 passes, candidate 1 does not. <choice>2</choice>")
    async with StoreWriter(store) as writer:
        ctx = context(repo, sandbox, scripted.handle(),
                      test_matrix=StoreTestMatrix(store, writer))
        sel = await CodeMonkeysSelector(CodeMonkeysConfig()).select(instance, candidates(), ctx)
    await scripted.service.drain()
    assert sel.chosen_sample_idx == 1 and sel.patch == GOLD and sel.method == "codemonkeys"
    assert "chose candidate 2 after 1 tests" in sel.rationale
    neg = {r["patch_hash"]: r["status"] for r in store.query(
        "SELECT patch_hash, status FROM test_runs WHERE test_id = $t",
        {"t": script_id(NEG_TEST)}).to_pylist()}
    # the original code and WRONG_ABS fail the new test; GOLD and LONG_FIX pass it
    assert sorted(neg.values()) == ["failed", "failed", "passed", "passed"]
    turns = store.query("SELECT turn, trajectory_id FROM sequences WHERE stage = 'select' "
                        "ORDER BY turn").to_pylist()
    assert [t["turn"] for t in turns] == [0, 1] and len({t["trajectory_id"] for t in turns}) == 1
    prompt = store.query("SELECT c.text FROM sequences s, contents c WHERE s.turn = 1 AND "
                         "c.content_hash = s.messages[3].content_hash").to_pylist()[0]["text"]
    assert "<candidate number=1>\nexit code 2" in prompt
    assert "<candidate number=2>\nexit code 0" in prompt


async def test_unparseable_replies_fall_back_to_the_top_voted_candidate(
        instance, repo, sandbox, scripted):
    ctx = context(repo, sandbox, scripted.handle())
    sel = await CodeMonkeysSelector(CodeMonkeysConfig()).select(instance, candidates(), ctx)
    assert sel.chosen_sample_idx == 0  # top-voted
    assert "fallback to the top-voted candidate: 2 unparseable replies" in sel.rationale


async def test_out_of_range_choice_is_unparseable(instance, repo, sandbox, scripted):
    scripted.enqueue("<choice>7</choice>", "<choice>0</choice>")
    sel = await CodeMonkeysSelector(CodeMonkeysConfig()).select(
        instance, candidates(), context(repo, sandbox, scripted.handle()))
    assert sel.chosen_sample_idx == 0 and "unparseable" in sel.rationale


async def test_model_failure_falls_back(instance, repo, sandbox, scripted):
    scripted.server.inject("server_error", 10)
    sel = await CodeMonkeysSelector(CodeMonkeysConfig()).select(
        instance, candidates(), context(repo, sandbox, scripted.handle()))
    assert sel.chosen_sample_idx == 0 and "model call failed" in sel.rationale


async def test_one_distinct_candidate_needs_no_model(instance, repo, sandbox):
    sel = await CodeMonkeysSelector(CodeMonkeysConfig()).select(
        instance, [patch(GOLD, 0), patch(GOLD, 1), patch("", 2)], context(repo, sandbox))
    assert sel.chosen_sample_idx == 0 and "one distinct candidate" in sel.rationale


async def test_all_empty_candidates_run_nothing(instance, repo, sandbox):
    sel = await TestVoteSelector(TestVoteConfig()).select(
        instance, [patch("", 0), patch(GOLD, 1, status="apply_failed")], context(repo, sandbox))
    assert sel.patch == "" and sandbox.calls == 0
