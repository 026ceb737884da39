-- levenshtein_similarity (stage generate, per candidate): rapidfuzz's normalized Levenshtein
-- similarity of the candidate's diff text and the gold patch text, 1 - distance / max(len(a),
-- len(b)) (both empty = 1), computed by the Arrow UDF `levenshtein_similarity` over rapidfuzz's
-- batch scorer. An empty candidate against a non-empty gold patch scores 0. No row when the
-- instance has no gold patch. Identical (candidate, gold) pairs are scored once.
-- $config_hash: one generation config, or NULL for all.
WITH c AS (
    SELECT * FROM current_patches
    WHERE ($config_hash IS NULL OR config_hash = $config_hash) AND gold_patch <> ''
),
pairs AS (SELECT DISTINCT diff, gold_patch FROM c),
scored AS (
    SELECT diff, gold_patch, levenshtein_similarity(diff, gold_patch) AS value FROM pairs
)
SELECT c.instance_id, 'generate' AS stage, c.config_hash, c.sample_idx,
       'levenshtein_similarity' AS metric, s.value
FROM c JOIN scored AS s USING (diff, gold_patch)
