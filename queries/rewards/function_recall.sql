-- function_recall (stage localize, per sample): the share of gold functions found. Gold functions
-- (table `gold_symbols`, needs a clone: `swepipe rewards --repos DIR`): the distinct innermost
-- functions or classes enclosing gold line units (see line_recall.sql). A gold function (file F,
-- qualified name Q) is found when a pointer of file F
--   names it: symbol = Q, or symbol is an enclosing class (Q starts with symbol || '.'); or
--   covers one of its gold line units by span (line_recall's rule; whole-file pointers cover all).
-- No row for instances without `gold_symbols` rows. No pointers scores 0.
-- $config_hash: one localization config, or NULL for all.
WITH s AS (
    SELECT * FROM loc_samples WHERE $config_hash IS NULL OR config_hash = $config_hash
),
units AS (
    SELECT s.config_hash, s.instance_id, s.sample_idx, g.path, g.symbol, g.line, g.line_kind
    FROM s JOIN gold_symbols AS g USING (instance_id, revision)
),
found AS (
    SELECT DISTINCT u.config_hash, u.instance_id, u.sample_idx, u.path, u.symbol
    FROM units AS u
    JOIN loc_pointers AS p
      ON p.config_hash = u.config_hash AND p.instance_id = u.instance_id
     AND p.sample_idx = u.sample_idx AND p.file_path = u.path
    WHERE p.symbol = u.symbol OR starts_with(u.symbol, p.symbol || '.')
       OR (p.start_line IS NULL AND p.resolved)
       OR (u.line_kind = 'removed'
           AND u.line BETWEEN p.start_line AND coalesce(p.end_line, p.start_line))
       OR (u.line_kind = 'insert_after'
           AND u.line BETWEEN p.start_line - 1 AND coalesce(p.end_line, p.start_line))
),
gold AS (SELECT DISTINCT config_hash, instance_id, sample_idx, path, symbol FROM units)
SELECT g.instance_id, 'localize' AS stage, g.config_hash, g.sample_idx,
       'function_recall' AS metric, count(f.symbol) / count(*) AS value
FROM gold AS g
LEFT JOIN found AS f USING (config_hash, instance_id, sample_idx, path, symbol)
GROUP BY g.instance_id, g.config_hash, g.sample_idx
