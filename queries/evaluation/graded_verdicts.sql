-- The verdicts of evaluation $evaluation that swepipe graded from test output, with the test
-- lists and repository of the instance revision they were graded against (for parity checks).
SELECT v.instance_id, v.patch_hash, v.graded_resolved, v.harness_resolved, i.repo,
       i.repo_version, i.fail_to_pass, i.pass_to_pass
FROM harness_verdicts AS v
JOIN instances AS i USING (instance_id, revision)
WHERE v.evaluation = $evaluation AND v.graded_resolved IS NOT NULL
ORDER BY v.instance_id
