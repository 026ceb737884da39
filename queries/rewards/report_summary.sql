-- Stage quality per config: for each (stage, config, metric) over instances (sample_idx -1 rows),
-- the number of instances, the mean, and a normal-approximation 95% confidence interval of the
-- mean, mean ± 1.96 · sd / sqrt(n) (no interval for n < 2).
-- $stage: one stage, or NULL for all.
SELECT r.stage, r.config_hash, coalesce(c.component, '?') AS component, r.metric,
       count(r.value) AS n, avg(r.value) AS mean,
       CASE WHEN count(r.value) > 1
            THEN 1.96 * stddev_samp(r.value) / sqrt(count(r.value)) END AS ci95
FROM rewards AS r LEFT JOIN configs AS c USING (config_hash)
WHERE r.sample_idx = -1 AND ($stage IS NULL OR r.stage = $stage) AND r.value IS NOT NULL
GROUP BY r.stage, r.config_hash, c.component, r.metric
ORDER BY r.stage, c.component, r.config_hash, r.metric
