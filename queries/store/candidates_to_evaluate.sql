-- Distinct candidates of the current generation results ($config: a hash prefix, NULL = all
-- configs) whose gold tests have no rows in `test_runs` yet, with the instance revision they ran
-- on. `run_hash` is the candidate's content hash ('' for an empty diff: the original code).
SELECT DISTINCT p.instance_id, p.revision, p.run_hash, p.diff
FROM current_patches AS p
WHERE ($config IS NULL OR starts_with(p.config_hash, $config))
  AND (len(p.fail_to_pass) + len(p.pass_to_pass)) > 0
  AND NOT EXISTS (
      SELECT 1 FROM test_runs AS t
      WHERE t.instance_id = p.instance_id AND t.patch_hash = p.run_hash
        AND t.test_kind IN ('fail_to_pass', 'pass_to_pass'))
ORDER BY p.instance_id, p.run_hash
