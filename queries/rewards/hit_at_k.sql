-- hit_at_k (stage localize, per sample; run for k = 1, 3, 5 as hit_at_1, hit_at_3, hit_at_5):
-- 1 when one of the sample's first k distinct files is a gold file (view `gold_loc_files`), else
-- 0. Files are ordered by their best pointer (smallest `rank`, then smallest `pointer_idx`). No row
-- when the gold set is empty. No pointers scores 0.
-- $config_hash: one localization config, or NULL for all. $k: the cut-off.
WITH s AS (
    SELECT * FROM loc_samples WHERE $config_hash IS NULL OR config_hash = $config_hash
),
files AS (
    SELECT config_hash, instance_id, sample_idx, file_path AS path,
           row_number() OVER (PARTITION BY config_hash, instance_id, sample_idx
                              ORDER BY min(rank), min(pointer_idx)) AS pos
    FROM loc_pointers
    WHERE $config_hash IS NULL OR config_hash = $config_hash
    GROUP BY config_hash, instance_id, sample_idx, file_path
)
SELECT s.instance_id, 'localize' AS stage, s.config_hash, s.sample_idx,
       'hit_at_' || $k AS metric, coalesce(bool_or(f.pos <= $k), false)::DOUBLE AS value
FROM s
JOIN gold_loc_files AS g USING (instance_id, revision)
LEFT JOIN files AS f USING (config_hash, instance_id, sample_idx, path)
GROUP BY s.instance_id, s.config_hash, s.sample_idx
