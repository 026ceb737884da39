-- context_tokens (stage localize, per sample): the sum of the sample's pointers' `tokens` (the
-- size of the context the localizer handed on, as it measured it). No row when a pointer's size
-- is unknown (tokens NULL). No pointers is 0.
-- $config_hash: one localization config, or NULL for all.
SELECT s.instance_id, 'localize' AS stage, s.config_hash, s.sample_idx,
       'context_tokens' AS metric, coalesce(sum(p.tokens), 0)::DOUBLE AS value
FROM loc_samples AS s
LEFT JOIN loc_pointers AS p USING (config_hash, instance_id, sample_idx)
WHERE $config_hash IS NULL OR s.config_hash = $config_hash
GROUP BY s.instance_id, s.config_hash, s.sample_idx
HAVING count(p.pointer_idx) = count(p.tokens)
