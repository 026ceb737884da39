import json
import sys

from swepipe.generate.perturbed import flip
from swepipe.models.scripted_rules import Script
from swepipe.patch.normalize import normalize_patch
from swepipe.protocols import StageContext
from swepipe.registry import available, build

from tests.generate.conftest import patch_rows, run_generator

# the repository's FAIL_TO_PASS and PASS_TO_PASS checks, without pytest's start-up cost
CHECK = [sys.executable, "-c", "from calc.ops import add, clamp, mul; "
         "assert add(2, 3) == 5 and clamp(9, 0, 5) == 5 and mul(2, 3) == 6"]


async def test_oracle_candidate_is_the_gold_patch_with_its_normal_form(
        store, make_server, repo, instance):
    run = await run_generator(store, make_server(Script()), {"component": "oracle"}, instance,
                              [], repo=repo)
    (row,) = patch_rows(store, run.config_hash)
    assert row["diff"] == instance.patch and row["files"] == ["calc/ops.py"]
    assert row["normalized_diff"] == normalize_patch(instance.patch, repo)


async def test_oracle_without_a_gold_patch_records_an_empty_candidate(repo, instance):
    oracle, _ = build("generate", {"component": "oracle"})
    (patch,) = await oracle.generate(instance.model_copy(update={"patch": ""}), [],
                                     StageContext(model=None, repo_dir=repo))
    assert patch.status == "empty" and "no gold patch" in patch.reason


async def test_perturbed_variants_apply_and_only_the_harmless_one_still_passes(
        store, make_server, repo, instance, sandbox):
    run = await run_generator(store, make_server(Script()), {"component": "perturbed_gold"},
                              instance, [], repo=repo)
    rows = patch_rows(store, run.config_hash)
    metas = [json.loads(r["meta"]) for r in rows]
    assert [m.get("damage") for m in metas] == [None, "drop_hunk", "flip_line", "noop", "empty"]
    assert [r["status"] for r in rows] == ["ok", "ok", "ok", "ok", "empty"]
    passed = []
    for row in rows:
        out = await sandbox.run(repo, CHECK, patch=row["diff"] or None, timeout_s=30)
        passed.append(out.exit_code == 0)
    assert passed == [True, False, False, True, False]
    assert rows[3]["normalized_diff"] == rows[0]["normalized_diff"] != rows[2]["normalized_diff"]
    assert metas[2]["detail"].endswith("'return a + b' -> 'return a - b'")


async def test_perturbation_is_the_same_on_a_rerun_and_inapplicable_damage_is_a_row(
        repo, instance):
    gen, _ = build("generate", {"component": "perturbed_gold", "include_gold": False})
    ctx = StageContext(model=None, repo_dir=repo)
    assert await gen.generate(instance, [], ctx) == await gen.generate(instance, [], ctx)
    one_hunk = instance.model_copy(update={"patch": instance.patch.split("@@ -21")[0]})
    patches = await gen.generate(one_hunk, [], ctx)
    assert patches[0].status == "empty" and patches[0].meta["applicable"] is False
    assert "single hunk" in patches[0].reason


def test_flip_changes_one_operator_and_ignores_comments():
    assert flip("    return a + b\n") == "    return a - b\n"
    assert flip("    if x <= 3:\n") == "    if x > 3:\n"
    assert flip("    # a + b\n") is None and flip("    pass\n") is None


def test_every_registered_generator_builds_from_its_short_name():
    for name in available("generate"):
        component, config = build("generate", {"component": name})
        assert config.component == name and hasattr(component, "generate")
