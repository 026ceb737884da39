-- changed_line_coverage (stage generate, per candidate): the share of the candidate's added lines
-- (line numbers in the patched files, UDF `patch_added_lines`) that the generated tests execute:
-- lines listed in `test_coverage` for this candidate (`patch_hash` = its content hash) under test
-- kinds 'generated' or 'reproduction', any test. No row when the candidate has no such coverage
-- rows (not measured) or adds no lines (a pure deletion).
-- $config_hash: one generation config, or NULL for all.
WITH measured AS (
    SELECT DISTINCT instance_id, patch_hash AS run_hash FROM test_coverage
    WHERE test_kind IN ('generated', 'reproduction')
),
c AS (
    SELECT p.* FROM current_patches AS p JOIN measured USING (instance_id, run_hash)
    WHERE ($config_hash IS NULL OR p.config_hash = $config_hash) AND p.diff <> ''
),
-- (DISTINCT and unnest in one SELECT de-duplicate before unnesting: keep them apart)
added AS (
    SELECT DISTINCT * FROM (
        SELECT config_hash, instance_id, sample_idx, run_hash,
               unnest(patch_added_lines(diff), recursive := true)
        FROM c)
),
covered AS (
    SELECT DISTINCT * FROM (
        SELECT instance_id, patch_hash AS run_hash, path, unnest(lines) AS line
        FROM test_coverage WHERE test_kind IN ('generated', 'reproduction'))
)
SELECT a.instance_id, 'generate' AS stage, a.config_hash, a.sample_idx,
       'changed_line_coverage' AS metric, count(v.line) / count(*) AS value
FROM added AS a
LEFT JOIN covered AS v USING (instance_id, run_hash, path, line)
GROUP BY a.instance_id, a.config_hash, a.sample_idx
