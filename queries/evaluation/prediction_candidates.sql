-- Candidates imported from SWE-bench predictions files (`import-predictions`, component
-- `predictions`) for the ids in $ids: the diff, its `test_runs` key and the file's
-- model_name_or_path (NULL when the file had none), one row per distinct (instance, model, diff).
SELECT DISTINCT p.instance_id, json_extract_string(p.meta, '$.model_name_or_path') AS model,
       p.diff, p.run_hash
FROM current_patches AS p
JOIN configs AS c USING (config_hash)
WHERE c.component = 'predictions' AND list_contains($ids, p.instance_id)
ORDER BY p.instance_id, model, p.run_hash
