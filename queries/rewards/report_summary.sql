-- Stage quality per dataset and config: for each (dataset, stage, config, metric) over the
-- dataset's instances (sample_idx -1 rows), the number of instances with a value, the mean, and a
-- normal-approximation 95% confidence interval of the mean, mean ± 1.96 · sd / sqrt(n) (no
-- interval for n < 2). An instance belongs to every dataset that holds it (`dataset_instances`),
-- so it counts in each of their rows; an instance of no dataset counts under '(none)'.
-- $stage, $dataset: one stage / dataset, or NULL for all.
WITH scored AS (
    SELECT coalesce(d.dataset, '(none)') AS dataset, r.stage, r.config_hash, r.metric, r.value
    FROM rewards AS r LEFT JOIN dataset_instances AS d USING (instance_id)
    WHERE r.sample_idx = -1 AND r.value IS NOT NULL
      AND ($stage IS NULL OR r.stage = $stage)
)
SELECT s.dataset, s.stage, s.config_hash, coalesce(c.component, '?') AS component, s.metric,
       count(s.value) AS n, avg(s.value) AS mean,
       CASE WHEN count(s.value) > 1
            THEN 1.96 * stddev_samp(s.value) / sqrt(count(s.value)) END AS ci95
FROM scored AS s LEFT JOIN configs AS c USING (config_hash)
WHERE $dataset IS NULL OR s.dataset = $dataset
GROUP BY s.dataset, s.stage, s.config_hash, c.component, s.metric
ORDER BY s.dataset, s.stage, c.component, s.config_hash, s.metric
