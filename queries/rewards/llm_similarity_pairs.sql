-- llm_similarity inputs (stage generate, per candidate): every current candidate with its
-- instance's gold patch. The judge is asked once per distinct (diff, gold patch) pair (in Python:
-- a model call per row is the point, so this query only gathers the pairs).
-- $config_hash: one generation config, or NULL for all.
SELECT config_hash, instance_id, sample_idx, diff, gold_patch
FROM current_patches
WHERE $config_hash IS NULL OR config_hash = $config_hash
ORDER BY instance_id, config_hash, sample_idx
