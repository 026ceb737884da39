-- Per-instance rewards (sample_idx -1) from per-sample ones in `_new` (a registered Arrow table of
-- reward rows): the mean of the defined (non-NULL) sample values; rows already at -1 pass through.
SELECT instance_id, stage, config_hash, sample_idx, metric, value FROM _new
UNION ALL
SELECT instance_id, stage, config_hash, -1, metric, avg(value)
FROM _new WHERE sample_idx >= 0
GROUP BY instance_id, stage, config_hash, metric
