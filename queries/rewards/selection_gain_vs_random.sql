-- selection_gain_vs_random (stage select, per instance, sample_idx -1): the quality of the chosen
-- candidate minus the expected quality of a uniformly random pick among the same candidates:
--   q(chosen) - mean over candidates c of q(c),
-- where q is the generation reward $quality (default 'resolved'; run again with
-- 'swe_rl_similarity' for `selection_gain_vs_random_similarity`) of the selection's upstream
-- generation config (view `current_selections`). When nothing was chosen the submission is empty
-- and q(chosen) = 0. No row unless every candidate has the reward. Overall = the mean over
-- instances (`swepipe report`).
-- $config_hash: one selection config, or NULL for all. $quality: generation metric. $metric: the
-- name to store.
WITH s AS (
    SELECT * FROM current_selections WHERE $config_hash IS NULL OR config_hash = $config_hash
),
cand AS (
    SELECT s.config_hash, s.instance_id, s.chosen_sample_idx, p.sample_idx, q.value
    FROM s
    JOIN current_patches AS p ON p.config_hash = s.generate_config AND p.instance_id = s.instance_id
    LEFT JOIN rewards AS q
      ON q.instance_id = p.instance_id AND q.stage = 'generate' AND q.config_hash = p.config_hash
     AND q.sample_idx = p.sample_idx AND q.metric = $quality
)
SELECT instance_id, 'select' AS stage, config_hash, -1 AS sample_idx, $metric AS metric,
       coalesce(max(value) FILTER (WHERE sample_idx = chosen_sample_idx), 0) - avg(value)
           AS value
FROM cand
GROUP BY instance_id, config_hash
HAVING count(value) = count(*)
