-- file_recall (stage localize, per sample): |found ∩ gold| / |gold|, where gold = the files the
-- gold patch changes that exist in the original tree (view `gold_loc_files`: new and binary files
-- excluded) and found = the distinct `file_path`s of the sample's pointers (any kind, resolved or
-- not). No row when the gold set is empty. An output without pointers scores 0.
-- $config_hash: one localization config, or NULL for all.
WITH s AS (
    SELECT * FROM loc_samples WHERE $config_hash IS NULL OR config_hash = $config_hash
),
found AS (
    SELECT DISTINCT config_hash, instance_id, sample_idx, file_path AS path FROM loc_pointers
    WHERE $config_hash IS NULL OR config_hash = $config_hash
)
SELECT s.instance_id, 'localize' AS stage, s.config_hash, s.sample_idx, 'file_recall' AS metric,
       count(f.path) / count(*) AS value
FROM s
JOIN gold_loc_files AS g USING (instance_id, revision)
LEFT JOIN found AS f USING (config_hash, instance_id, sample_idx, path)
GROUP BY s.instance_id, s.config_hash, s.sample_idx
