-- Patches of done attempts: content columns only.
SELECT o.config_hash, o.instance_id, o.sample_idx, o.diff, o.content_hash, o.status, o.files
FROM patches AS o
JOIN stage_runs AS s ON s.stage = 'generate' AND s.config_hash = o.config_hash
 AND s.instance_id = o.instance_id AND s.attempt = o.attempt AND s.status = 'done'
