-- resolved (stage generate, per candidate): SWE-bench's verdict, 1 when every FAIL_TO_PASS and
-- every PASS_TO_PASS test has status 'passed' for the candidate, else 0 (a test without a row is
-- not passed). An empty candidate is 0 without running anything (FAIL_TO_PASS tests fail on the
-- original code by construction). No row when a non-empty candidate's gold tests were not run.
-- Per instance (sample_idx -1) it is the mean: the share of candidates that resolve.
-- $config_hash: one generation config, or NULL for all.
SELECT instance_id, 'generate' AS stage, config_hash, sample_idx, 'resolved' AS metric,
       CASE WHEN any_value(diff) = '' THEN 0.0
            ELSE (count(*) FILTER (WHERE status = 'passed') = count(*))::DOUBLE END AS value
FROM candidate_gold_tests
WHERE ($config_hash IS NULL OR config_hash = $config_hash) AND (ran OR diff = '')
GROUP BY instance_id, config_hash, sample_idx
