-- Localizations of done attempts: content columns only (no attempt numbers, run ids, times).
SELECT o.config_hash, o.instance_id, o.sample_idx, o.pointer_idx, o.file_path, o.start_line,
       o.end_line, o.kind, o.symbol, o.rank
FROM localizations AS o
JOIN stage_runs AS s ON s.stage = 'localize' AND s.config_hash = o.config_hash
 AND s.instance_id = o.instance_id AND s.attempt = o.attempt AND s.status = 'done'
