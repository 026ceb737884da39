-- all_files_found (stage localize, per sample): CodeMonkeys' binary recall, 1 when every gold file
-- (view `gold_loc_files`) is among the sample's pointer files, else 0. No row when the gold set is
-- empty. An output without pointers scores 0.
-- $config_hash: one localization config, or NULL for all.
WITH s AS (
    SELECT * FROM loc_samples WHERE $config_hash IS NULL OR config_hash = $config_hash
),
found AS (
    SELECT DISTINCT config_hash, instance_id, sample_idx, file_path AS path FROM loc_pointers
    WHERE $config_hash IS NULL OR config_hash = $config_hash
)
SELECT s.instance_id, 'localize' AS stage, s.config_hash, s.sample_idx,
       'all_files_found' AS metric, (count(f.path) = count(*))::DOUBLE AS value
FROM s
JOIN gold_loc_files AS g USING (instance_id, revision)
LEFT JOIN found AS f USING (config_hash, instance_id, sample_idx, path)
GROUP BY s.instance_id, s.config_hash, s.sample_idx
