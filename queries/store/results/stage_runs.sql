-- Done stage results by key, with how many done attempts each has (1 in a healthy store).
SELECT stage, config_hash, instance_id, instance_hash, count(*) AS done_attempts
FROM stage_runs WHERE status = 'done'
GROUP BY ALL
