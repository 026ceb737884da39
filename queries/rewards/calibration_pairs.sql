-- Pairs (cheap reward, true outcome) for judging the cheap rewards, where the outcome is known:
-- * generate: each candidate's cheap reward with its own `resolved` (0/1);
-- * localize: each instance's localization reward (sample -1) with the resolve rate (resolved,
--   sample -1) of every generation config whose upstream is that localization config;
--   target = 1 when that rate > 0.
-- Outcome-derived metrics (resolved, *_pass_rate) are not "cheap" and are left out.
WITH outcome AS (
    SELECT instance_id, config_hash, sample_idx, value FROM rewards
    WHERE stage = 'generate' AND metric = 'resolved' AND value IS NOT NULL
),
cheap AS (
    SELECT * FROM rewards
    WHERE value IS NOT NULL AND metric NOT IN
        ('resolved', 'gold_pass_rate', 'fail_to_pass_rate', 'pass_to_pass_rate')
),
downstream AS (
    SELECT c.config_hash AS generate_config,
           unnest(map_values(json_transform(c.upstream, '"MAP(VARCHAR, VARCHAR)"'))) AS up_hash
    FROM configs AS c WHERE c.stage = 'generate'
)
SELECT 'generate' AS stage, x.config_hash, x.metric, x.instance_id, x.sample_idx, x.value,
       o.value AS target
FROM cheap AS x JOIN outcome AS o USING (instance_id, config_hash, sample_idx)
WHERE x.stage = 'generate' AND x.sample_idx >= 0
UNION ALL
SELECT 'localize', x.config_hash, x.metric, x.instance_id, -1, x.value,
       (o.value > 0)::DOUBLE
FROM cheap AS x
JOIN downstream AS d ON d.up_hash = x.config_hash
JOIN outcome AS o ON o.config_hash = d.generate_config AND o.instance_id = x.instance_id
                 AND o.sample_idx = -1
WHERE x.stage = 'localize' AND x.sample_idx = -1
