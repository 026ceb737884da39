-- The current candidates of one generation config ($config_hash) with the gold patch and the
-- content hash of the instance revision they ran on (for `inject_gold`). An instance whose
-- result has no candidates appears once with NULL candidate columns.
SELECT r.instance_id, i.content_hash AS instance_hash, i.patch AS gold_patch,
       p.sample_idx, p.diff, p.normalized_diff, p.files, p.status, p.reason, p.test,
       p.trajectory_id, p.meta
FROM current_results AS r
JOIN instances AS i USING (instance_id, revision)
LEFT JOIN patches AS p USING (config_hash, instance_id, attempt)
WHERE r.stage = 'generate' AND r.config_hash = $config_hash
ORDER BY r.instance_id, p.sample_idx
