-- gold_pass_rate (stage generate, per candidate): the share of the instance's gold tests
-- (FAIL_TO_PASS and PASS_TO_PASS together) that succeed for this candidate (`patch_hash` = its
-- content hash; '' for an empty diff, i.e. the original code) under SWE-bench's status rules:
-- fail_to_pass `passed`, pass_to_pass `passed` or `skipped` (view `candidate_gold_tests`, which
-- takes an imported harness grading over swepipe's own run). A gold test without a row does not
-- succeed. No row when the candidate's gold tests were not run (no row of kind
-- [swebench_]fail_to_pass / [swebench_]pass_to_pass) or the instance has no gold tests.
-- $config_hash: one generation config, or NULL for all.
SELECT instance_id, 'generate' AS stage, config_hash, sample_idx, 'gold_pass_rate' AS metric,
       count(*) FILTER (WHERE success) / count(*) AS value
FROM candidate_gold_tests
WHERE ($config_hash IS NULL OR config_hash = $config_hash) AND ran
GROUP BY instance_id, config_hash, sample_idx
