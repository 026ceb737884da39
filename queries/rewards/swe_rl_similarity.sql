-- swe_rl_similarity (stage generate, per candidate): SWE-RL's reward for unified diffs
-- (`calculate_reward_unidiff`). Each diff becomes per-file change texts (UDF `swerl_file_changes`:
-- the file's hunks, headers included, each stripped, joined by newlines; a renamed file keyed by
-- its source path and prefixed `rename from A to B`; binary files skipped; an unparseable diff has
-- no files). Over the union of paths of the two diffs, each file scores
-- difflib.SequenceMatcher(None, pred, gold, autojunk=False).ratio() (UDF `swerl_ratio`), 0 when
-- either side lacks the file; the value is the mean, and 1 when neither diff has a file.
-- No row when the instance has no gold patch. Identical pairs are scored once.
-- $config_hash: one generation config, or NULL for all.
WITH c AS (
    SELECT * FROM current_patches
    WHERE ($config_hash IS NULL OR config_hash = $config_hash) AND gold_patch <> ''
),
pairs AS (SELECT DISTINCT diff, gold_patch FROM c),
pred AS (
    SELECT diff, unnest(swerl_file_changes(diff), recursive := true)
    FROM (SELECT DISTINCT diff FROM pairs)
),
gold AS (
    SELECT gold_patch, unnest(swerl_file_changes(gold_patch), recursive := true)
    FROM (SELECT DISTINCT gold_patch FROM pairs)
),
paths AS (
    SELECT p.diff, p.gold_patch, x.path FROM pairs AS p JOIN pred AS x USING (diff)
    UNION
    SELECT p.diff, p.gold_patch, g.path FROM pairs AS p JOIN gold AS g USING (gold_patch)
),
files AS (
    SELECT t.diff, t.gold_patch, coalesce(x.change, '') AS pred_change,
           coalesce(g.change, '') AS gold_change
    FROM paths AS t
    LEFT JOIN pred AS x ON x.diff = t.diff AND x.path = t.path
    LEFT JOIN gold AS g ON g.gold_patch = t.gold_patch AND g.path = t.path
),
ratios AS (
    SELECT pred_change, gold_change, swerl_ratio(pred_change, gold_change) AS ratio
    FROM (SELECT DISTINCT pred_change, gold_change FROM files)
),
per_pair AS (
    SELECT f.diff, f.gold_patch, avg(r.ratio) AS value
    FROM files AS f JOIN ratios AS r USING (pred_change, gold_change)
    GROUP BY f.diff, f.gold_patch
)
SELECT c.instance_id, 'generate' AS stage, c.config_hash, c.sample_idx,
       'swe_rl_similarity' AS metric, coalesce(p.value, 1.0) AS value
FROM c LEFT JOIN per_pair AS p USING (diff, gold_patch)
