-- resolved (stage generate, per candidate): SWE-bench's verdict, 1 when every FAIL_TO_PASS and
-- every PASS_TO_PASS test succeeds for the candidate, else 0, under the harness's status rules
-- (view `candidate_gold_tests`: fail_to_pass `passed`; pass_to_pass `passed` or `skipped`; a test
-- without a row does not succeed). The outcomes are an imported harness grading's when the
-- candidate has one, else swepipe's own run's. A candidate with no gold-test rows but an imported
-- harness verdict (a run summary or leaderboard `results.json`: no test output) takes that
-- verdict (the latest import's). An empty candidate is 0 without running anything (FAIL_TO_PASS
-- tests fail on the original code by construction). No row when a non-empty candidate was neither
-- run nor has a verdict. Per instance (sample_idx -1) it is the mean: the share of candidates
-- that resolve.
-- $config_hash: one generation config, or NULL for all.
WITH graded AS (
    SELECT instance_id, config_hash, sample_idx,
           CASE WHEN any_value(diff) = '' THEN 0.0
                ELSE (count(*) FILTER (WHERE success) = count(*))::DOUBLE END AS value
    FROM candidate_gold_tests
    WHERE ($config_hash IS NULL OR config_hash = $config_hash) AND (ran OR diff = '')
    GROUP BY instance_id, config_hash, sample_idx
),
verdict AS (
    SELECT p.instance_id, p.config_hash, p.sample_idx,
           arg_max(v.harness_resolved, v.imported_at)::DOUBLE AS value
    FROM current_patches AS p
    JOIN harness_verdicts AS v ON v.instance_id = p.instance_id AND v.patch_hash = p.run_hash
    WHERE ($config_hash IS NULL OR p.config_hash = $config_hash) AND p.diff <> ''
      AND v.harness_resolved IS NOT NULL
    GROUP BY p.instance_id, p.config_hash, p.sample_idx
)
SELECT instance_id, 'generate' AS stage, config_hash, sample_idx, 'resolved' AS metric, value
FROM graded
UNION ALL
SELECT v.instance_id, 'generate', v.config_hash, v.sample_idx, 'resolved', v.value
FROM verdict AS v
ANTI JOIN graded AS g USING (instance_id, config_hash, sample_idx)
