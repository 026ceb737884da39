-- Selections of done attempts: content columns only.
SELECT o.config_hash, o.instance_id, o.chosen_sample_idx, o.patch, o.method
FROM selections AS o
JOIN stage_runs AS s ON s.stage = 'select' AND s.config_hash = o.config_hash
 AND s.instance_id = o.instance_id AND s.attempt = o.attempt AND s.status = 'done'
