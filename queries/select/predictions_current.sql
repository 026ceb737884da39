-- The current (latest done) selection of each instance for one selection config ($config_hash).
WITH latest AS (
    SELECT instance_id, max(attempt) AS attempt FROM stage_runs
    WHERE stage = 'select' AND config_hash = $config_hash AND status = 'done'
    GROUP BY instance_id
)
SELECT s.instance_id, s.patch
FROM selections AS s JOIN latest USING (instance_id, attempt)
WHERE s.config_hash = $config_hash
ORDER BY s.instance_id
