-- Progress per dataset, stage and config: how many of the dataset's instances (at the revision the
-- dataset holds) have a done result, have failed (latest attempt failed, nothing done), or are
-- pending (no attempt yet on that revision). Datasets without any stage results show one row with
-- only their instance count.
WITH members AS (
    SELECT d.dataset, d.instance_id, i.content_hash
    FROM dataset_instances AS d JOIN instances AS i USING (instance_id, revision)
),
per_key AS (
    SELECT m.dataset, s.stage, s.config_hash, m.instance_id,
           bool_or(s.status = 'done') AS any_done,
           arg_max(s.status, s.attempt) AS last_status
    FROM members AS m
    JOIN stage_runs AS s ON s.instance_id = m.instance_id AND s.instance_hash = m.content_hash
    GROUP BY ALL
),
pairs AS (SELECT DISTINCT dataset, stage, config_hash FROM per_key),
sizes AS (SELECT dataset, count(*) AS instances FROM members GROUP BY dataset)
SELECT p.dataset, p.stage, p.config_hash[1:12] AS config, c.component, z.instances,
       count(*) FILTER (WHERE k.any_done) AS done,
       count(*) FILTER (WHERE NOT k.any_done AND k.last_status = 'failed') AS failed,
       z.instances - count(k.instance_id) AS pending
FROM pairs AS p
JOIN sizes AS z USING (dataset)
LEFT JOIN per_key AS k USING (dataset, stage, config_hash)
LEFT JOIN configs AS c USING (config_hash)
GROUP BY p.dataset, p.stage, p.config_hash, c.component, z.instances
UNION ALL
SELECT z.dataset, NULL, NULL, NULL, z.instances, NULL, NULL, NULL
FROM sizes AS z WHERE z.dataset NOT IN (SELECT dataset FROM pairs)
ORDER BY 1, 2 NULLS FIRST, 3
