-- Verdicts imported from the official SWE-bench harness (`swepipe import-evaluation`).
-- Per-test outcomes swepipe graded from the harness's test output go to `test_runs` with kinds
-- `swebench_fail_to_pass` / `swebench_pass_to_pass` (executor 'swebench-harness'), beside any run
-- of swepipe's own; this table keeps the harness's own verdict next to swepipe's grade.
CREATE TABLE harness_verdicts (
    evaluation VARCHAR NOT NULL,       -- the import's name (--name; default the run id)
    instance_id VARCHAR NOT NULL,
    revision INTEGER NOT NULL,         -- the instance revision whose test lists graded it
    patch_hash VARCHAR NOT NULL,       -- the candidate's content hash, as test_runs.patch_hash
    model VARCHAR,                     -- model_name_or_path
    format VARCHAR NOT NULL,           -- log_tree | run_summary | leaderboard | legacy_logs
    harness_status VARCHAR NOT NULL,   -- resolved | unresolved | error | no_apply | empty_patch | ...
    harness_resolved BOOLEAN,          -- the harness's verdict (NULL: the input gives none)
    graded_resolved BOOLEAN,           -- swepipe's grade of the test output (NULL: no output)
    reason VARCHAR,                    -- why the output has no results, or why the two disagree
    source_path VARCHAR NOT NULL,
    imported_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (evaluation, instance_id, patch_hash)
);

-- As in 0003, plus the harness: a candidate's gold-test outcomes come from an imported harness
-- grading when it has one (the official environment), else from swepipe's own runs. `success`
-- applies SWE-bench's status rules: a fail_to_pass test succeeds when `passed`, a pass_to_pass
-- test when `passed` or `skipped` (a skip is not a regression).
CREATE OR REPLACE VIEW candidate_gold_tests AS
WITH t AS (
    SELECT config_hash, instance_id, sample_idx, diff, run_hash, 'fail_to_pass' AS test_kind,
           unnest(fail_to_pass) AS test_id
    FROM current_patches
    UNION ALL
    SELECT config_hash, instance_id, sample_idx, diff, run_hash, 'pass_to_pass',
           unnest(pass_to_pass)
    FROM current_patches
),
ran AS (
    SELECT instance_id, patch_hash AS run_hash,
           bool_or(starts_with(test_kind, 'swebench_')) AS harness
    FROM test_runs
    WHERE test_kind IN ('fail_to_pass', 'pass_to_pass', 'swebench_fail_to_pass',
                        'swebench_pass_to_pass')
    GROUP BY instance_id, patch_hash
)
SELECT t.config_hash, t.instance_id, t.sample_idx, t.diff, t.test_kind, t.test_id, x.status,
       ran.run_hash IS NOT NULL AS ran,
       coalesce(x.status = 'passed' OR (t.test_kind = 'pass_to_pass' AND x.status = 'skipped'),
                false) AS success
FROM t
LEFT JOIN ran ON ran.instance_id = t.instance_id AND ran.run_hash = t.run_hash
LEFT JOIN test_runs AS x
  ON x.instance_id = t.instance_id AND x.patch_hash = t.run_hash AND x.test_id = t.test_id
 AND x.test_kind = CASE WHEN ran.harness THEN 'swebench_' || t.test_kind ELSE t.test_kind END;
