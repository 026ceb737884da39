-- Selection configs whose hash starts with $prefix (from `configs`, or only seen in `stage_runs`).
SELECT config_hash, any_value(component) AS component FROM (
    SELECT config_hash, component FROM configs WHERE stage = 'select'
    UNION ALL
    SELECT DISTINCT config_hash, NULL FROM stage_runs WHERE stage = 'select'
) WHERE starts_with(config_hash, $prefix)
GROUP BY config_hash ORDER BY config_hash
