-- Per generation candidate (sample_idx >= 0): its cheap rewards as columns, and `resolved` when
-- known: the table the `predicted_resolved` model is fitted on and predicts for.
SELECT instance_id, config_hash, sample_idx,
       max(value) FILTER (WHERE metric = 'levenshtein_similarity') AS levenshtein_similarity,
       max(value) FILTER (WHERE metric = 'swe_rl_similarity') AS swe_rl_similarity,
       max(value) FILTER (WHERE metric = 'changed_line_coverage') AS changed_line_coverage,
       max(value) FILTER (WHERE metric = 'resolved') AS resolved
FROM rewards
WHERE stage = 'generate' AND sample_idx >= 0
GROUP BY instance_id, config_hash, sample_idx
HAVING count(*) FILTER (WHERE metric IN ('levenshtein_similarity', 'swe_rl_similarity')) > 0
ORDER BY instance_id, config_hash, sample_idx
