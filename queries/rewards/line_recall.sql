-- line_recall (stage localize, per sample): the share of gold line units inside the sample's
-- pointers. Gold line units (view `gold_lines`, original numbering): every removed line, and
-- every insertion point (the gap after original line k, 0 = top of file) whose added lines do
-- not directly replace a removed line k. A pointer covers a unit of its own file when it is a
-- whole-file pointer (start_line NULL and resolved), or when a removed line k has
-- start <= k <= end, or when an insertion point after k touches the span: start - 1 <= k <= end
-- (the span contains line k or line k+1). end_line NULL means start_line alone. Unresolved
-- symbol pointers cover nothing.
-- No row when the gold patch has no units (only new or binary files). No pointers scores 0.
-- $config_hash: one localization config, or NULL for all.
WITH s AS (
    SELECT * FROM loc_samples WHERE $config_hash IS NULL OR config_hash = $config_hash
),
units AS (
    SELECT s.config_hash, s.instance_id, s.sample_idx, g.path, g.line, g.kind
    FROM s JOIN gold_lines AS g USING (instance_id, revision)
),
covered AS (
    SELECT DISTINCT u.config_hash, u.instance_id, u.sample_idx, u.path, u.line, u.kind
    FROM units AS u
    JOIN loc_pointers AS p
      ON p.config_hash = u.config_hash AND p.instance_id = u.instance_id
     AND p.sample_idx = u.sample_idx AND p.file_path = u.path
    WHERE (p.start_line IS NULL AND p.resolved)
       OR (u.kind = 'removed'
           AND u.line BETWEEN p.start_line AND coalesce(p.end_line, p.start_line))
       OR (u.kind = 'insert_after'
           AND u.line BETWEEN p.start_line - 1 AND coalesce(p.end_line, p.start_line))
)
SELECT u.instance_id, 'localize' AS stage, u.config_hash, u.sample_idx, 'line_recall' AS metric,
       count(c.line) / count(*) AS value
FROM units AS u
LEFT JOIN covered AS c USING (config_hash, instance_id, sample_idx, path, line, kind)
GROUP BY u.instance_id, u.config_hash, u.sample_idx
