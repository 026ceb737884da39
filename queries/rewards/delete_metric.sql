-- Remove a metric's stored rewards for one stage (and one config, or all when $config_hash is
-- NULL) before they are written again: recomputation replaces, so a value that became undefined
-- disappears instead of lingering.
DELETE FROM rewards
WHERE stage = $stage AND metric = $metric AND ($config_hash IS NULL OR config_hash = $config_hash)
