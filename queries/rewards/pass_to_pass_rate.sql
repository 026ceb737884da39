-- pass_to_pass_rate (stage generate, per candidate): gold_pass_rate restricted to the instance's
-- PASS_TO_PASS tests (regressions the fix must not cause). No row when not run or the list is
-- empty.
-- $config_hash: one generation config, or NULL for all.
SELECT instance_id, 'generate' AS stage, config_hash, sample_idx, 'pass_to_pass_rate' AS metric,
       count(*) FILTER (WHERE success) / count(*) AS value
FROM candidate_gold_tests
WHERE ($config_hash IS NULL OR config_hash = $config_hash) AND ran
  AND test_kind = 'pass_to_pass'
GROUP BY instance_id, config_hash, sample_idx
