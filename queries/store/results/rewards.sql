-- Rewards by key (rounded: a value computed twice may differ in the last float bit).
SELECT instance_id, stage, config_hash, sample_idx, metric, round(value, 9) AS value
FROM rewards
