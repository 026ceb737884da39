-- Per-instance reward values (sample_idx -1) with the config's component, for plots.
-- $stage: one stage, or NULL for all.
SELECT r.stage, r.config_hash, coalesce(c.component, '?') AS component, r.metric,
       r.instance_id, r.value
FROM rewards AS r LEFT JOIN configs AS c USING (config_hash)
WHERE r.sample_idx = -1 AND ($stage IS NULL OR r.stage = $stage) AND r.value IS NOT NULL
ORDER BY r.stage, c.component, r.metric, r.instance_id
