-- gold_injection_accuracy (stage select, per instance, sample_idx -1): for selections whose
-- candidate set contains the gold patch (a candidate whose diff equals the instance's gold patch
-- up to leading/trailing whitespace, or whose meta has "gold": true; see `swepipe inject-gold`),
-- 1 when the chosen candidate is a gold one, else 0. No row when the gold patch is not among the
-- candidates. Overall (the mean over instances) is how often the selector picks the gold patch.
-- $config_hash: one selection config, or NULL for all.
WITH s AS (
    SELECT * FROM current_selections WHERE $config_hash IS NULL OR config_hash = $config_hash
),
cand AS (
    SELECT s.config_hash, s.instance_id, s.chosen_sample_idx, p.sample_idx,
           (trim(p.diff) = trim(p.gold_patch) AND p.gold_patch <> '')
           OR coalesce(json_extract(p.meta, '$.gold')::BOOLEAN, false) AS is_gold
    FROM s
    JOIN current_patches AS p ON p.config_hash = s.generate_config AND p.instance_id = s.instance_id
)
SELECT instance_id, 'select' AS stage, config_hash, -1 AS sample_idx,
       'gold_injection_accuracy' AS metric,
       coalesce(bool_or(is_gold AND sample_idx = chosen_sample_idx), false)::DOUBLE AS value
FROM cand
GROUP BY instance_id, config_hash
HAVING bool_or(is_gold)
