-- For each requested key (registered as `_keys`: stage, config_hash, instance_id, instance_hash):
-- the highest attempt so far, and whether a `done` attempt on the same instance revision exists.
-- Used inside the commit transaction to number a new attempt and to drop duplicate results.
SELECT k.stage, k.config_hash, k.instance_id,
       coalesce(max(s.attempt), 0) AS max_attempt,
       coalesce(bool_or(s.status = 'done' AND s.instance_hash = k.instance_hash), false) AS has_done
FROM _keys AS k
LEFT JOIN stage_runs AS s
  ON s.stage = k.stage AND s.config_hash = k.config_hash AND s.instance_id = k.instance_id
GROUP BY ALL
